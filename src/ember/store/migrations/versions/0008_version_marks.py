"""version marks: the highest version ever given to a name, so deleted numbers are never reused

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "version_marks",
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "name", name=op.f("pk_version_marks")),
    )
    # Names registered before this revision start from their highest remaining version, as they did.


def downgrade() -> None:
    op.drop_table("version_marks")
