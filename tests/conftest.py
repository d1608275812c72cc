"""Fixtures shared by every test suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from support.azurite import AzuriteServer, AzuriteUnavailable
from support.postgres import PostgresNotInstalled, PostgresServer
from support.s3 import MotoServer


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session, in a temporary directory.

    Without the server binaries the tests that use it are skipped on a laptop, and fail in CI,
    where a skip would hide the PostgreSQL half of the suite.
    """
    try:
        server = PostgresServer()
    except PostgresNotInstalled as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:
        if _running_in_ci():
            pytest.fail(f"CI=true but PostgreSQL is missing: {missing}", pytrace=False)
        pytest.skip(missing)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://…``) of one database shared by the whole session."""
    return postgres_server.create_database("ember")


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL of a new, empty database for one test, dropped after it."""
    name = f"ember_{uuid.uuid4().hex[:8]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def azurite() -> Iterator[AzuriteServer]:
    """Azurite's blob service for the whole session, in memory on a loopback port.

    Without Node.js or the pinned package (``make azurite``) the tests that use it are skipped on
    a laptop, and fail in CI, where a skip would hide the Azure half of the datastore tests.
    """
    try:
        server = AzuriteServer()
    except AzuriteUnavailable as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing:
        if _running_in_ci():
            pytest.fail(f"CI=true but Azurite is missing: {missing}", pytrace=False)
        pytest.skip(missing)
    with server:
        yield server


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """moto's standalone S3/STS server for the whole session, in memory on a loopback port."""
    with MotoServer() as server:
        yield server
