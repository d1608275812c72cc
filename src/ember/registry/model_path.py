"""Where a deployment's model files are: ``$EMBER_MODEL_DIR/<name>/<version>/``.

Standard library only: ``ember model package`` copies this file as it is into a model's Docker context, so
``Model.get_model_path`` answers the same inside an Ember replica and inside the packaged image.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["find_model_path"]


def find_model_path(
    model_name: str, version: int | None = None, *, error: type[Exception] = ValueError
) -> str:
    """The file of a one-file model, else its folder; ``version=None`` is the highest version present.

    Raises:
        error: ``$EMBER_MODEL_DIR`` is not set, or the model (version) is not part of the deployment.
    """
    root = os.environ.get("EMBER_MODEL_DIR")
    if not root:
        raise error("Model.get_model_path works inside a deployment's init(): $EMBER_MODEL_DIR is not set")
    base = Path(root) / model_name
    versions = sorted((int(p.name) for p in base.glob("*") if p.name.isdigit()), reverse=True)
    if not versions:
        raise error(f"model {model_name!r} is not part of this deployment (looked in {base})")
    if version is not None and version not in versions:
        raise error(f"model {model_name!r} version {version} is not part of this deployment: {versions}")
    folder = base / str(version or versions[0])
    entries = list(folder.iterdir())
    if len(entries) == 1 and entries[0].is_file():
        return str(entries[0])
    return str(folder)
