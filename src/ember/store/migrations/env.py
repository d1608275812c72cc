"""Alembic environment: always run on the connection Ember hands over (no URL in a config file)."""

from __future__ import annotations

from alembic import context

from ember.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
