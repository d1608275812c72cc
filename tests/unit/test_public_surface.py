"""The SDK's public surface is exactly what ember/__init__.py promises, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import ember

PUBLIC = [
    "Autoscale",
    "Dataset",
    "DatasetConsumptionConfig",
    "Datastore",
    "Deployment",
    "DeploymentConfig",
    "Endpoint",
    "Environment",
    "Experiment",
    "FileDataset",
    "InferenceConfig",
    "Model",
    "OutputDatasetConfig",
    "Run",
    "ScriptRunConfig",
    "TabularDataset",
    "Workspace",
    "__version__",
    "errors",
    "estimators",
]


def test_the_public_names_are_exactly_the_intended_ones_and_all_resolve() -> None:
    assert sorted(ember.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(ember, name) is not None
    assert sorted(n for n in dir(ember) if not n.startswith("_")) == [
        n for n in PUBLIC if not n.startswith("_")
    ]


def test_import_ember_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, ember\n"
        "heavy = [m for m in ('sqlalchemy', 'pydantic', 'fastapi', 'httpx', 'alembic') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
