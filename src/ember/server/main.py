"""Running the server: open a local workspace and serve it with uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import os

from ember.errors import InvalidInput
from ember.server.app import DEFAULT_MAX_ARTIFACT_BYTES, create_app
from ember.server.security import LOOPBACK_HOSTS

__all__ = ["serve"]

logger = logging.getLogger(__name__)

_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    target: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    allowed_hosts: list[str] | None = None,
    log_level: str = "info",
    access_log: bool = False,
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
) -> None:
    """Serve a local workspace over HTTP until interrupted.

    Runs one uvicorn worker: on the machines measured, two or more stalled about 44 ms on every
    keep-alive request, and one worker already overlaps I/O through its thread pool.

    Args:
        target: The workspace: a folder, ``file://`` URL or database URI (not a server URL).
        host: The interface to bind; anything but loopback exposes the API without authentication.
        port: The TCP port to bind.
        allowed_hosts: Names clients may use in the ``Host`` header besides the loopback names and
            ``host`` itself (for a reverse proxy or a DNS name; ``"*"`` turns the check off).
        log_level: uvicorn's log level.
        access_log: Log one line per request.
        max_artifact_bytes: Largest artifact upload accepted.

    Raises:
        InvalidInput: ``target`` is a server URL, not a local workspace.
        NotFound: There is no workspace at ``target``.
    """
    import uvicorn

    from ember.data.policy import EndpointPolicy
    from ember.wiring import open_backend

    if target.startswith(("http://", "https://")):
        raise InvalidInput(
            f"ember server serves a local workspace (a folder or database URI), not a server URL: {target!r}"
        )
    hosts = list(allowed_hosts or [])
    if host not in _WILDCARD_HOSTS:
        hosts.append(host)
    # A shared server checks datastore endpoints: nobody points one at the metadata service through it.
    policy = EndpointPolicy.from_setting(os.environ.get("EMBER_DATASTORE_ALLOWED_HOSTS"))
    backend = open_backend(target, datastore_policy=policy)
    try:
        if backend.kind != "local":
            raise InvalidInput(
                f"ember server needs a local workspace, {target!r} opened a {backend.kind} one"
            )
        if not _is_loopback(host):
            logger.warning(
                "serving on %s: the API has no authentication yet, so anyone who can reach this address "
                "can read and change the workspace; bind 127.0.0.1 unless the network is trusted",
                host,
            )
        app = create_app(backend, allowed_hosts=hosts, max_artifact_bytes=max_artifact_bytes)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            workers=1,
            reload=False,
            timeout_keep_alive=30,
            log_level=log_level,
            access_log=access_log,
            server_header=False,
            ws="none",
        )
        uvicorn.Server(config).run()
    finally:
        backend.close()
