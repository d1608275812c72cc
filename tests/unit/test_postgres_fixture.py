"""The PostgreSQL fixtures give tests a real server and databases of their own."""

from __future__ import annotations

import psycopg
import pytest

from support.postgres import PostgresServer, libpq_url


def test_postgres_url_reaches_a_running_server(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://ember@127.0.0.1:")

    with psycopg.connect(libpq_url(postgres_url)) as conn:
        row = conn.execute("SELECT version()").fetchone()

    assert row is not None
    assert row[0].startswith("PostgreSQL ")


def test_fresh_postgres_url_is_a_new_empty_database(postgres_url: str, fresh_postgres_url: str) -> None:
    assert fresh_postgres_url.rsplit("/", 1)[0] == postgres_url.rsplit("/", 1)[0]
    assert fresh_postgres_url != postgres_url

    with psycopg.connect(libpq_url(fresh_postgres_url)) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        conn.execute("CREATE TABLE runs (id integer PRIMARY KEY)")
        conn.execute("INSERT INTO runs VALUES (1)")

    assert tables == (0,)


def test_a_dropped_database_is_gone_even_with_a_connection_open(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database("ember_drop_me")
    assert "ember_drop_me" in postgres_server.list_databases()

    with psycopg.connect(libpq_url(url)) as conn:
        postgres_server.drop_database("ember_drop_me")

        assert "ember_drop_me" not in postgres_server.list_databases()
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
