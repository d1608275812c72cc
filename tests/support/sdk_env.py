"""Keeping a test's SDK calls from inheriting a workspace, a run or caches from the environment it runs in."""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["INHERITED_VARIABLES", "isolate_sdk_environment"]

#: What a submitted run (or a developer's shell) sets that would make the SDK act on another workspace or run.
INHERITED_VARIABLES = (
    "EMBER_WORKSPACE",
    "EMBER_RUN_ID",
    "EMBER_SPOOL_DIR",
    "EMBER_ARTIFACT_URI",
    "EMBER_TOKEN",
)


def isolate_sdk_environment(patch: pytest.MonkeyPatch, cache_root: Path) -> None:
    """A private cache folder (``XDG_CACHE_HOME``) and none of the inherited Ember variables."""
    patch.setenv("XDG_CACHE_HOME", str(cache_root))
    for name in INHERITED_VARIABLES:
        patch.delenv(name, raising=False)
