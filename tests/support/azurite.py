"""A real, throwaway Azure Blob Storage server for tests: Azurite's blob service on a loopback port.

Azurite is Microsoft's storage emulator, a Node.js program pinned in ``tests/support/azurite/``
(``make azurite`` installs it). Only its blob service runs, in memory, so state dies with the
process. The code under test goes through its real client stack (adlfs, azure-storage-blob,
aiohttp) against the well-known development account ``devstoreaccount1``; nothing is patched.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

from support.loopback import LoopbackServer, LoopbackServerError

__all__ = [
    "ACCOUNT_KEY",
    "ACCOUNT_NAME",
    "AZURITE_DIR",
    "AzuriteServer",
    "AzuriteServerError",
    "AzuriteUnavailable",
]

AZURITE_DIR = Path(__file__).resolve().parent / "azurite"
BLOB_MAIN = AZURITE_DIR / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
# Azurite's fixed development account; the key is public (it is in Microsoft's documentation).
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# An opener that ignores HTTP(S)_PROXY: a proxy must never see a loopback request.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class AzuriteUnavailable(RuntimeError):
    """Node.js or the pinned Azurite package is missing, so the server cannot start."""


class AzuriteServerError(LoopbackServerError):
    """Azurite did not start; the message carries its log."""


def _find_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise AzuriteUnavailable(
            "Node.js (`node`) is not on PATH, so Azurite cannot run: install Node.js, then `make azurite`"
        )
    if not BLOB_MAIN.is_file():
        raise AzuriteUnavailable(
            f"Azurite is not installed ({BLOB_MAIN.relative_to(AZURITE_DIR.parents[2])} is missing): "
            "run `make azurite` (or `cd tests/support/azurite && npm ci`)"
        )
    return node


class AzuriteServer(LoopbackServer):
    """Azurite's blob service on 127.0.0.1: ``start()``, use ``connection_string``, ``stop()``.

    The constructor raises ``AzuriteUnavailable`` when Node.js or the package is missing.
    """

    label = "Azurite"
    error = AzuriteServerError
    account_name = ACCOUNT_NAME
    account_key = ACCOUNT_KEY

    def __init__(self, *, startup_timeout: float = 30.0) -> None:
        self.node = _find_node()
        super().__init__(startup_timeout=startup_timeout)

    @property
    def blob_endpoint(self) -> str:
        """``http://127.0.0.1:<port>/devstoreaccount1``: Azurite puts the account in the path."""
        if self.port is None:
            raise RuntimeError("the Azurite server is not started")
        return f"http://127.0.0.1:{self.port}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        """A connection string with the account key, as azure-storage-blob and adlfs accept it."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.account_name};"
            f"AccountKey={self.account_key};BlobEndpoint={self.blob_endpoint};"
        )

    def sas_connection_string(self, sas_token: str) -> str:
        """A connection string that authenticates with ``sas_token`` only (no account key)."""
        return f"BlobEndpoint={self.blob_endpoint};SharedAccessSignature={sas_token.lstrip('?')}"

    def create_container(self, name: str) -> None:
        """Create the blob container ``name`` with the account key."""
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(self.connection_string) as service:
            service.create_container(name)

    def _command(self, port: int, workdir: str) -> list[str]:
        # In memory, Azurite writes nothing (and refuses --location then).
        return [
            self.node,
            str(BLOB_MAIN),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--silent",
            "--loose",
            # azure-storage-blob may send an API version newer than this Azurite knows.
            "--skipApiVersionCheck",
            "--disableTelemetry",
        ]

    def _answers(self) -> bool:
        # An unsigned request gets 403; the Server header tells Azurite from whatever else took the port.
        try:
            with _DIRECT.open(f"{self.blob_endpoint}?comp=list", timeout=1) as response:
                server = response.headers.get("Server", "")
        except urllib.error.HTTPError as answer:
            server = answer.headers.get("Server", "")
        except OSError:
            return False
        return server.startswith("Azurite-Blob")
