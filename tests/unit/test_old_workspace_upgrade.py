"""A workspace written by the first schema revision opens, upgrades and keeps all its data."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

import ember
from ember.store.database import HEAD_REVISION, Database

FIXTURE = Path(__file__).parent.parent / "fixtures" / "workspace-0001"
RUN_ID = "b32b416c2f194daaa6b76f3878675b72"


def _revision(db_file: Path) -> str:
    engine = sa.create_engine(f"sqlite:///{db_file}")
    with engine.connect() as conn:
        rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    return str(rev)


def test_opening_a_revision_0001_workspace_upgrades_it_and_keeps_its_runs(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    shutil.copytree(FIXTURE, folder)
    assert _revision(folder / "ember.db") == "0001"

    ws = ember.Workspace.get(folder)
    try:
        run = ws.get_run(RUN_ID)
        assert run.experiment.name == "legacy"
        assert run.display_name == "from-0001"
        assert run.get_status() == "Completed"
        assert run.get_params() == {"C": "0.5", "model": "svm"}
        assert run.get_tags() == {"team": "vision"}
        assert run.get_properties() == {"dataset": "iris-v1"}
        metrics = run.get_metrics()
        assert metrics["loss"][:3] == [1.0, 0.5, 1 / 3]
        assert len(metrics["loss"]) == 100
        assert math.isnan(metrics["edge"][0])
        assert metrics["edge"][1] == -math.inf
        assert metrics["per_class"] == {"cls": ["a"], "f1": [0.9]}
        out = run.download_file("outputs/model.txt", tmp_path / "model.txt")
        assert out.read_bytes() == b"weights: 1 2 3\n"
        found = ws.search_runs(experiment="legacy", filter="params.C < 1 and attributes.status = 'Completed'")
        assert [r.id for r in found] == [RUN_ID]
    finally:
        ws.close()
    assert _revision(folder / "ember.db") == HEAD_REVISION
    engine = sa.create_engine(f"sqlite:///{folder / 'ember.db'}")
    indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("runs")}
    engine.dispose()
    assert {"ix_runs_status_heartbeat", "ix_runs_user_name"} <= indexes
    assert "ix_runs_status" not in indexes


def test_a_schema_newer_than_this_code_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    shutil.copytree(FIXTURE, folder)
    engine = sa.create_engine(f"sqlite:///{folder / 'ember.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(ember.errors.SchemaTooNew, match="upgrade Ember"):
        Database(f"sqlite:///{folder / 'ember.db'}")
