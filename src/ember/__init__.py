"""Ember: an open, local-first machine-learning workspace.

The public SDK is imported lazily so that ``import ember`` stays fast (well under 0.3 s): the names
below load their modules on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ember import sdk as _sdk
from ember.version import __version__

# The composition root: features hand cross-feature calls to these links (ember.links), never to each other.
_sdk.install()

_LAZY = {
    "Workspace": "ember.workspace",
    "Experiment": "ember.tracking.run",
    "Run": "ember.tracking.run",
    "ScriptRunConfig": "ember.jobs.config",
    "Environment": "ember.environments.sdk",
    "Datastore": "ember.data.datastore",
    "Dataset": "ember.data.dataset",
    "TabularDataset": "ember.data.dataset",
    "FileDataset": "ember.data.dataset",
    "DatasetConsumptionConfig": "ember.data.dataset",
    "OutputDatasetConfig": "ember.jobs.config",
    "Model": "ember.registry.model",
    "InferenceConfig": "ember.serving.config",
    "Endpoint": "ember.serving.endpoint",
    "Deployment": "ember.serving.endpoint",
    "DeploymentConfig": "ember.serving.endpoint",
    "Autoscale": "ember.serving.endpoint",
    "errors": "ember.errors",
    "estimators": "ember.jobs.estimators",
}
_MODULES = frozenset({"errors", "estimators"})

__all__ = [
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

if TYPE_CHECKING:
    from ember import errors
    from ember.data.dataset import Dataset, DatasetConsumptionConfig, FileDataset, TabularDataset
    from ember.data.datastore import Datastore
    from ember.environments.sdk import Environment
    from ember.jobs import estimators
    from ember.jobs.config import OutputDatasetConfig, ScriptRunConfig
    from ember.registry.model import Model
    from ember.serving.config import InferenceConfig
    from ember.serving.endpoint import Autoscale, Deployment, DeploymentConfig, Endpoint
    from ember.tracking.run import Experiment, Run
    from ember.workspace import Workspace


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ember' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
