"""documents.indexed_blob_key: the file behind the version search serves

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:00:00

A re-upload no longer deletes the served version's file when it is accepted: the file stays until the new
version is indexed, so a re-upload that fails leaves the served version whole. Indexed documents take their
current file as the served one; a document with a re-upload still queued at this revision has already lost
its served file (NULL: its rows and vectors are still kept if that re-upload fails).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("indexed_blob_key", sa.String(length=255), nullable=True))
    documents = sa.table(
        "documents",
        sa.column("version", sa.Integer),
        sa.column("indexed_version", sa.Integer),
        sa.column("blob_key", sa.String),
        sa.column("indexed_blob_key", sa.String),
    )
    op.execute(
        documents.update()
        .where(documents.c.indexed_version == documents.c.version, documents.c.indexed_version > 0)
        .values(indexed_blob_key=documents.c.blob_key)
    )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("indexed_blob_key")
