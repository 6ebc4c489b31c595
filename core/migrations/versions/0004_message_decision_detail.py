"""messages.decision_detail: why the bot decided as it did, in words, for the staff view

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:00:00

The decision and its reason code were stored, but not the evidence behind them ("answerability 0.62 < 0.79",
"the question leaves its subject open ('the fast food chain')"): an agent reviewing an escalation saw
``no_evidence`` without how close the bot came. Earlier messages keep NULL (the detail was never kept).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_detail", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("decision_detail")
