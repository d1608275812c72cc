"""Fixtures of the server tests: a server subprocess on a fresh workspace, or apps served in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI

from ember.backend import Backend
from ember.wiring import create_workspace
from support.server_harness import ServerProcess, serve_in_thread, start_server, stop_server


@contextmanager
def _server_on_new_workspace(folder: Path) -> Iterator[ServerProcess]:
    workspace = folder / "ws"
    create_workspace(workspace).close()
    server = start_server(workspace, folder / "server.log")
    try:
        yield server
    finally:
        stop_server(server.process)


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server subprocess serving a fresh workspace in ``tmp_path / "ws"``."""
    with _server_on_new_workspace(tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server subprocess for all tests of a module that do not need an empty workspace."""
    with _server_on_new_workspace(tmp_path_factory.mktemp("shared")) as server:
        yield server


@pytest.fixture
def live_server(server_process: ServerProcess) -> str:
    """The URL of a server subprocess serving a fresh workspace."""
    return server_process.url


@pytest.fixture
def serve_app() -> Iterator[Callable[[FastAPI], str]]:
    """Start apps in background threads (``url = serve_app(app)``); all stop after the test."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serve_in_thread(app))


@pytest.fixture
def local_backend(tmp_path: Path) -> Iterator[Backend]:
    """A LocalBackend on a fresh workspace in ``tmp_path / "ws"``, for apps served in-process."""
    backend = create_workspace(tmp_path / "ws")
    try:
        yield backend
    finally:
        backend.close()
