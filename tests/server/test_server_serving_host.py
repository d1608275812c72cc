"""``ember server`` keeps a local workspace's endpoints served: it starts the serving host at startup and
on every sweep, and a failure to start it never stops the sweeps."""

from __future__ import annotations

import time

import anyio
import pytest

from ember.backend import Backend
from ember.server.app import create_app


@pytest.mark.parametrize("fails", [False, True])
def test_the_server_starts_the_serving_host_at_startup_and_on_every_sweep(
    local_backend: Backend, monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    calls: list[float] = []

    def ensure_host() -> None:
        calls.append(time.monotonic())
        if fails:
            raise RuntimeError("cannot start the serving host")

    monkeypatch.setattr(local_backend.endpoints, "ensure_host", ensure_host)
    app = create_app(local_backend, sweep_interval=0.5)

    async def serve_until_three_calls() -> float:
        started = time.monotonic()
        async with app.router.lifespan_context(app):
            with anyio.fail_after(10):
                while len(calls) < 3:
                    await anyio.sleep(0.01)
        return started

    started = anyio.run(serve_until_three_calls)

    assert calls[0] - started < 0.4  # at startup, not after the first sweep interval (0.5 s)
    assert len(calls) >= 3
