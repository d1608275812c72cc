"""Finding the workspace to use: an explicit target, ``$EMBER_WORKSPACE`` or ``.ember/config.json`` upward."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ember.errors import InvalidInput, NotFound

__all__ = ["CONFIG_DIR", "CONFIG_FILE", "find_workspace_target", "write_config"]

CONFIG_DIR = ".ember"
CONFIG_FILE = "config.json"


def write_config(target: str, directory: str | os.PathLike[str] = ".") -> Path:
    """Write ``.ember/config.json`` in ``directory`` so later commands there find the workspace."""
    folder = Path(directory) / CONFIG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"workspace": target}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _read_config(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc
    target = data.get("workspace") if isinstance(data, dict) else None
    if not isinstance(target, str) or not target:
        raise InvalidInput(f'{path} must hold {{"workspace": "<folder, database URI or server URL>"}}')
    if "://" not in target and not Path(target).is_absolute():
        # A relative folder in a config file means relative to the folder that holds .ember/.
        target = str((path.parent.parent / target).resolve())
    return target


def find_workspace_target(explicit: str | None = None, *, start: str | os.PathLike[str] | None = None) -> str:
    """Where the workspace is: ``explicit``, else ``$EMBER_WORKSPACE``, else the nearest config file."""
    if explicit:
        return explicit
    env = os.environ.get("EMBER_WORKSPACE")
    if env:
        return env
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_DIR / CONFIG_FILE
        if candidate.is_file():
            return _read_config(candidate)
    raise NotFound(
        "no workspace configured: pass --workspace, set $EMBER_WORKSPACE, or run "
        "`ember workspace create PATH` (which writes .ember/config.json here)"
    )
