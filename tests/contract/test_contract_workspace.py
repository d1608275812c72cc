"""The workspace itself: identity, schema version, what kind of store it is on."""

from __future__ import annotations

from contract_support import Target

import ember
from ember.store.database import HEAD_REVISION

EXPECTED_METADATA_BACKEND = {"sqlite": "sqlite", "postgres": "postgresql", "remote": "remote"}


def test_workspace_info(target: Target) -> None:
    info = target.backend.tracking.get_workspace_info()
    assert len(info.id) == 32
    assert info.name
    assert info.schema_version == HEAD_REVISION
    assert info.metadata_backend == EXPECTED_METADATA_BACKEND[target.kind]
    assert info.created_time.tzinfo is not None
    assert target.backend.tracking.get_workspace_info() == info


def test_the_sdk_workspace_shows_itself(target: Target, ws: ember.Workspace) -> None:
    assert ws.name == target.backend.tracking.get_workspace_info().name
    assert ws.info.schema_version == HEAD_REVISION
    assert ws.name in repr(ws)
    assert isinstance(ws.experiments, dict)
