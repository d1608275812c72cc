"""dataset lifecycle: versions can be deprecated (by a replacement), archived, reactivated; names unregistered

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every version registered before this revision is active and registered.
    with op.batch_alter_table("dataset_versions") as batch:
        batch.add_column(sa.Column("state", sa.String(length=10), nullable=False, server_default="active"))
        batch.add_column(sa.Column("deprecated_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("state_time", sa.Float(), nullable=True))
        batch.add_column(sa.Column("unregistered_time", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions") as batch:
        batch.drop_column("unregistered_time")
        batch.drop_column("state_time")
        batch.drop_column("deprecated_by")
        batch.drop_column("state")
