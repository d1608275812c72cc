"""Schema migrations on SQLite and PostgreSQL: empty to head, data survives upgrades, newer is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ember.entities import RunSearch
from ember.errors import SchemaTooNew
from ember.store.database import HEAD_REVISION, Database, normalize_db_url
from ember.wiring import create_workspace, open_backend

DIALECTS = ["sqlite", "postgres"]
TABLES = {
    "workspace",
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "tags",
    "properties",
    "metric_chunks",
    "metric_latest",
    "run_tables",
    "artifacts",
    "compute_targets",
    "run_configs",
    "snapshots",
    "snapshot_files",
    "run_logs",
    "environments",
    "alembic_version",
}


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ember.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """A plain SQLAlchemy engine on the same database, for looking behind Ember's back."""
    eng = sa.create_engine(normalize_db_url(database_url))
    try:
        yield eng
    finally:
        eng.dispose()


def _revision(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one())


def test_opening_an_empty_database_migrates_it_to_head(database_url: str, engine: sa.Engine) -> None:
    assert sa.inspect(engine).get_table_names() == []
    db = Database(database_url)
    try:
        assert db.current_revision() == HEAD_REVISION
    finally:
        db.dispose()
    assert _revision(engine) == HEAD_REVISION
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    # Opening again is a no-op.
    Database(database_url).dispose()
    assert _revision(engine) == HEAD_REVISION


def test_a_workspace_on_an_empty_database_is_usable(database_url: str, tmp_path: Path) -> None:
    backend = create_workspace(metadata_uri=database_url, artifact_uri=(tmp_path / "a").as_uri())
    try:
        info = backend.tracking.get_workspace_info()
        assert info.schema_version == HEAD_REVISION
        assert info.metadata_backend == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
        assert backend.tracking.get_or_create_experiment("first").name == "first"
    finally:
        backend.close()


def test_an_unknown_future_revision_is_refused(database_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    create_workspace(metadata_uri=database_url, artifact_uri=(tmp_path / "a").as_uri()).close()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))

    with pytest.raises(SchemaTooNew) as caught:
        Database(database_url)
    assert "9999_from_the_future" in caught.value.message
    assert "upgrade" in caught.value.message.lower()
    with pytest.raises(SchemaTooNew):
        open_backend(database_url, artifact_uri=(tmp_path / "a").as_uri())
    # Refusing touched nothing.
    assert _revision(engine) == "9999_from_the_future"


def test_a_folder_workspace_with_a_newer_schema_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    create_workspace(folder).close()
    eng = sa.create_engine(f"sqlite:///{folder / 'ember.db'}")
    with eng.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    eng.dispose()
    with pytest.raises(SchemaTooNew):
        open_backend(str(folder))


def test_data_written_at_revision_0001_survives_the_upgrade(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    db = Database(database_url, migrate=False)
    try:
        db.upgrade("0001")
    finally:
        db.dispose()
    assert _revision(engine) == "0001"

    now = time.time()
    exp_id, run_id = "a" * 32, "b" * 32
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO workspace (id, name, created_time, artifact_uri) VALUES (:i, 'old', :t, NULL)"
            ),
            {"i": "c" * 32, "t": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO experiments (id, name, lifecycle_stage, created_time, last_activity_time) "
                "VALUES (:i, 'legacy', 'active', :t, :t)"
            ),
            {"i": exp_id, "t": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO runs (id, experiment_id, display_name, status, lifecycle_stage, run_type, "
                "user_name, created_time, start_time, end_time) "
                "VALUES (:i, :e, 'old-run', 'Completed', 'active', 'interactive', 'ana', :t, :t, :t)"
            ),
            {"i": run_id, "e": exp_id, "t": now},
        )
        conn.execute(
            sa.text("INSERT INTO params (run_id, key, value, value_num) VALUES (:r, 'C', '0.5', 0.5)"),
            {"r": run_id},
        )
        conn.execute(
            sa.text("INSERT INTO tags (run_id, key, value) VALUES (:r, 'team', 'vision')"), {"r": run_id}
        )

    backend = open_backend(database_url, artifact_uri=(tmp_path / "a").as_uri())
    try:
        assert _revision(engine) == HEAD_REVISION
        run = backend.tracking.get_run(run_id)
        assert run.info.display_name == "old-run"
        assert run.info.status == "Completed"
        assert run.info.user == "ana"
        assert run.info.experiment_name == "legacy"
        assert run.params == {"C": "0.5"}
        assert run.tags == {"team": "vision"}
        assert backend.tracking.get_experiment_by_name("legacy").run_count == 1
        found = backend.tracking.search_runs(RunSearch(filter="params.C < 1 and attributes.user = 'ana'"))
        assert [r.info.id for r in found.runs] == [run_id]
    finally:
        backend.close()


def test_datasets_registered_before_revision_0010_are_active_and_can_be_archived(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    db = Database(database_url, migrate=False)
    try:
        db.upgrade("0009")
    finally:
        db.dispose()
    now = time.time()
    definition = '{"kind":"file","sources":[{"datastore":"workspace","path":"iris"}]}'
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO workspace (id, name, created_time, artifact_uri) VALUES (:i, 'old', :t, NULL)"
            ),
            {"i": "c" * 32, "t": now},
        )
        for number in (1, 2):
            conn.execute(
                sa.text(
                    "INSERT INTO dataset_versions (id, name, version, kind, definition, tags, files, "
                    "file_count, total_size, fingerprint, created_time) "
                    "VALUES (:i, 'iris', :v, 'file', :d, '{}', '[]', 0, 0, :f, :t)"
                ),
                {"i": str(number) * 32, "v": number, "d": definition, "f": "0" * 64, "t": now},
            )

    backend = open_backend(database_url, artifact_uri=(tmp_path / "a").as_uri())
    try:
        assert _revision(engine) == HEAD_REVISION
        listed = backend.data.list_datasets("iris")
        assert [(d.version, d.state, d.unregistered_time) for d in listed] == [
            (2, "active", None),
            (1, "active", None),
        ]
        backend.data.archive_dataset("2" * 32)
        assert backend.data.get_dataset("iris").version == 1
        assert [d.version for d in backend.data.unregister_dataset("iris")] == [2, 1]
    finally:
        backend.close()
