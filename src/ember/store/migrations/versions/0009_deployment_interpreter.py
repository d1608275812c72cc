"""deployment interpreter: a local deployment may run in the deploying process's interpreter

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Environment.current(): the deploying process's interpreter, and the machine it is on (replicas use
    # it only there). NULL: the deployment's registered environment, or the serving host's interpreter.
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("python_executable", sa.Text(), nullable=True))
        batch.add_column(sa.Column("python_machine", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("python_machine")
        batch.drop_column("python_executable")
