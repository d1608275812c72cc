"""Index runs by (status, heartbeat) for the sweeper of silent runners, and by user for search.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_status")
        batch.create_index("ix_runs_status_heartbeat", ["status", "heartbeat_time"])
        batch.create_index("ix_runs_user_name", ["user_name"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_user_name")
        batch.drop_index("ix_runs_status_heartbeat")
        batch.create_index("ix_runs_status", ["status"])
