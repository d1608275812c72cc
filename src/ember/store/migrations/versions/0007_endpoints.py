"""online endpoints: endpoints, deployments, the models they serve, and the serving host's row

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoints",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("auth_mode", sa.String(length=10), nullable=False),
        sa.Column("primary_key_hash", sa.String(length=64), nullable=False),
        sa.Column("secondary_key_hash", sa.String(length=64), nullable=False),
        sa.Column("encrypted_keys", sa.Text(), nullable=False),
        sa.Column("encrypted_token_secret", sa.Text(), nullable=False),
        sa.Column("traffic", sa.Text(), nullable=False),
        sa.Column("mirror_traffic", sa.Text(), nullable=False),
        sa.Column("created_time", sa.Float(), nullable=False),
        sa.Column("updated_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
        sa.UniqueConstraint("name", name=op.f("uq_endpoints_name")),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("entry_script", sa.String(length=1024), nullable=True),
        sa.Column("snapshot_digest", sa.String(length=64), nullable=True),
        sa.Column("environment_name", sa.String(length=255), nullable=True),
        sa.Column("environment_version", sa.Integer(), nullable=True),
        sa.Column("replicas", sa.Integer(), nullable=False),
        sa.Column("autoscale", sa.Text(), nullable=True),
        sa.Column("collect_data", sa.Integer(), nullable=False),
        sa.Column("max_body_bytes", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False),
        sa.Column("desired_replicas", sa.Integer(), nullable=False),
        sa.Column("ready_replicas", sa.Integer(), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("replica_states", sa.Text(), nullable=False),
        sa.Column("created_time", sa.Float(), nullable=False),
        sa.Column("updated_time", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["endpoints.id"],
            name=op.f("fk_deployments_endpoint_id_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint("endpoint_id", "name", name=op.f("uq_deployments_endpoint_id_name")),
    )
    op.create_index("ix_deployments_snapshot_digest", "deployments", ["snapshot_digest"])
    op.create_table(
        "deployment_models",
        sa.Column("deployment_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_models_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_deployment_models_model_id_models")
        ),
        sa.PrimaryKeyConstraint("deployment_id", "position", name=op.f("pk_deployment_models")),
    )
    op.create_index("ix_deployment_models_model_id", "deployment_models", ["model_id"])
    op.create_table(
        "serving_host",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("applied_revision", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("hostname", sa.String(length=255), nullable=True),
        sa.Column("started_time", sa.Float(), nullable=True),
        sa.Column("heartbeat_time", sa.Float(), nullable=True),
        sa.Column("spawn_time", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serving_host")),
    )


def downgrade() -> None:
    op.drop_table("serving_host")
    op.drop_index("ix_deployment_models_model_id", table_name="deployment_models")
    op.drop_table("deployment_models")
    op.drop_index("ix_deployments_snapshot_digest", table_name="deployments")
    op.drop_table("deployments")
    op.drop_table("endpoints")
