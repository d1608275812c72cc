"""submitted runs: configs, compute, snapshots, logs

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_targets",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("max_concurrent_runs", sa.Integer(), nullable=False),
        sa.Column("created_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_compute_targets")),
    )
    op.create_table(
        "snapshots",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("total_size", sa.BigInteger(), nullable=False),
        sa.Column("created_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_snapshots")),
    )
    op.create_table(
        "snapshot_files",
        sa.Column("snapshot_digest", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_digest"],
            ["snapshots.digest"],
            name=op.f("fk_snapshot_files_snapshot_digest_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_digest", "digest", name=op.f("pk_snapshot_files")),
    )
    with op.batch_alter_table("snapshot_files", schema=None) as batch_op:
        batch_op.create_index("ix_snapshot_files_digest", ["digest"], unique=False)

    op.create_table(
        "run_configs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("compute_target", sa.String(length=255), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("snapshot_digest", sa.String(length=64), nullable=True),
        sa.Column("git", sa.Text(), nullable=True),
        sa.Column("python_executable", sa.Text(), nullable=True),
        sa.Column("cancel_requested", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_configs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_digest"], ["snapshots.digest"], name=op.f("fk_run_configs_snapshot_digest_snapshots")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_configs")),
    )
    with op.batch_alter_table("run_configs", schema=None) as batch_op:
        batch_op.create_index("ix_run_configs_compute", ["compute_target"], unique=False)
        batch_op.create_index("ix_run_configs_snapshot", ["snapshot_digest"], unique=False)

    op.create_table(
        "run_logs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_logs_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", "seq", name=op.f("pk_run_logs")),
    )


def downgrade() -> None:
    op.drop_table("run_logs")
    with op.batch_alter_table("run_configs", schema=None) as batch_op:
        batch_op.drop_index("ix_run_configs_snapshot")
        batch_op.drop_index("ix_run_configs_compute")

    op.drop_table("run_configs")
    with op.batch_alter_table("snapshot_files", schema=None) as batch_op:
        batch_op.drop_index("ix_snapshot_files_digest")

    op.drop_table("snapshot_files")
    op.drop_table("snapshots")
    op.drop_table("compute_targets")
