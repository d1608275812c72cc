"""``Model.deploy`` in one call: an endpoint with one deployment of the given model versions."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ember.errors import Conflict, EmberError
from ember.serving.endpoint import DeploymentConfig, Endpoint, model_ids

if TYPE_CHECKING:
    from ember.backend import HasBackend
    from ember.serving.config import InferenceConfig

__all__ = ["deploy_models"]


def deploy_models(
    workspace: HasBackend,
    name: str,
    models: Sequence[Any],
    *,
    inference_config: InferenceConfig | None = None,
    deployment_config: DeploymentConfig | None = None,
    deployment_name: str = "default",
    overwrite: bool = False,
    wait: bool = True,
    timeout: float = 300.0,
) -> Endpoint:
    """``ember.Model.deploy``: model versions behind a new endpoint, or with ``overwrite`` an existing one."""
    config = deployment_config or DeploymentConfig()
    ids = model_ids(models)
    created = False
    try:
        endpoint = Endpoint.create(workspace, name, auth_mode=config.auth_mode)
        created = True
    except Conflict:
        if not overwrite:
            raise Conflict(
                f"endpoint {name!r} already exists: pass overwrite=True to update its deployment "
                f"{deployment_name!r}, or choose another name"
            ) from None
        endpoint = Endpoint(workspace, name)
        if deployment_config is not None and endpoint.auth_mode != config.auth_mode:
            raise Conflict(
                f"endpoint {name!r} uses {endpoint.auth_mode} auth but deployment_config asks for "
                f"{config.auth_mode}: an endpoint's auth mode cannot change; delete it first or choose "
                "another name"
            ) from None
    try:
        deployment = endpoint.deploy(
            deployment_name,
            models=ids,
            inference_config=inference_config,
            deployment_config=config,
            wait=False,
        )
    except EmberError:
        if created:  # refused (a bad model, script or environment): calling again must just work
            with contextlib.suppress(EmberError):
                endpoint.delete()
        raise
    if wait:
        deployment.wait_for_deployment(timeout)
    endpoint.refresh()
    return endpoint
