"""chunks.sentence_vectors: the reranker's sentence encodings, made at ingest

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 18:20:00

Chunks indexed before this revision keep NULL and are encoded at query time, as before; ``bindesk reindex``
fills them in.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sentence_vectors", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.drop_column("sentence_vectors")
