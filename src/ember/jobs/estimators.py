"""Framework presets: a ``ScriptRunConfig`` plus an environment with the framework installed.

``SKLearn``, ``PyTorch`` and ``TensorFlow`` take the familiar estimator arguments; the environment they
build is registered on submit (named after the framework and version, plus a hash of extra packages),
so every run with the same packages reuses one cached virtualenv. ``use_current_environment=True``
runs with the submitting interpreter instead: no build, the fast path.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ember.environments.sdk import Environment
from ember.jobs.config import ScriptRunConfig

__all__ = ["PyTorch", "SKLearn", "TensorFlow"]


def _arguments(script_params: Mapping[str, Any] | None, arguments: Sequence[Any] | None) -> list[str]:
    """Azure-style ``script_params`` ({"--C": 0.5, "--verbose": ""}) followed by plain arguments."""
    out: list[str] = []
    for flag, value in (script_params or {}).items():
        out.append(str(flag))
        if value is not None and value != "":
            out.append(str(value))
    out.extend(str(a) for a in (arguments or []))
    return out


class _Estimator(ScriptRunConfig):
    """A ScriptRunConfig whose environment is a framework preset."""

    framework = ""
    package = ""
    default_version: str | None = None

    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        entry_script: str | None = None,
        *,
        script_params: Mapping[str, Any] | None = None,
        arguments: Sequence[Any] | None = None,
        compute_target: str = "local",
        framework_version: str | None = None,
        pip_packages: Sequence[str] | None = None,
        environment_variables: Mapping[str, str] | None = None,
        use_current_environment: bool = False,
        max_run_duration_seconds: int | None = None,
    ) -> None:
        version = framework_version or self.default_version
        if use_current_environment:
            environment = Environment.current()
        else:
            pin = f"{self.package}=={version}" if version else self.package
            if version and version.count(".") < 2 and "*" not in version:
                pin = f"{self.package}=={version}.*"
            extra = sorted(pip_packages or ())
            suffix = hashlib.sha256("\n".join(extra).encode()).hexdigest()[:8] if extra else ""
            name = "-".join(p for p in ("ember", self.framework, (version or "latest"), suffix) if p)
            environment = Environment(
                name,
                pip=[pin, *extra],
                env_vars=dict(environment_variables or {}),
                description=f"{self.framework} preset of ember.estimators",
            )
        super().__init__(
            source_directory,
            entry_script,
            _arguments(script_params, arguments),
            environment=environment,
            compute_target=compute_target,
            max_run_duration_seconds=max_run_duration_seconds,
            env_vars=environment_variables if use_current_environment else None,
        )
        self.framework_version = version


class SKLearn(_Estimator):
    """scikit-learn training script (``framework_version`` like ``"1.7"``; default: the latest release)."""

    framework = "sklearn"
    package = "scikit-learn"


class PyTorch(_Estimator):
    """PyTorch training script; ``framework_version`` pins ``torch`` (default ``2.13.0``).

    Pin a version: an unpinned ``torch`` resolves to a multi-gigabyte CUDA build.
    """

    framework = "pytorch"
    package = "torch"
    default_version = "2.13.0"


class TensorFlow(_Estimator):
    """TensorFlow training script (``framework_version`` like ``"2.17"``; default: the latest release)."""

    framework = "tensorflow"
    package = "tensorflow"
