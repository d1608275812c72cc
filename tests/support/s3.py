"""A real, throwaway S3-compatible server for tests: moto's standalone server on a loopback port.

The server is a separate process speaking the S3 HTTP protocol, so the code under test goes
through its real client stack (s3fs, aiobotocore, botocore, aiohttp) exactly as against AWS;
nothing in the test process is patched. State lives in the server's memory and dies with it.
"""

from __future__ import annotations

import atexit
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import IO

from support.ports import free_port

__all__ = ["MotoServer", "MotoServerError"]

# An opener that ignores HTTP(S)_PROXY: a proxy must never see a loopback request.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MotoServerError(RuntimeError):
    """The moto server did not start; the message carries its log."""


class MotoServer:
    """One ``python -m moto.server`` process on 127.0.0.1: ``start()``, use ``endpoint_url``, ``stop()``."""

    # moto accepts any credentials; these are what the helpers here sign with.
    access_key_id = "ember-test-key"
    secret_access_key = "ember-test-secret"
    region = "us-east-1"

    def __init__(self, *, startup_timeout: float = 30.0) -> None:
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``, the value for ``AWS_ENDPOINT_URL_S3``."""
        if self.port is None:
            raise RuntimeError("the moto server is not started")
        return f"http://127.0.0.1:{self.port}"

    def create_bucket(self, name: str) -> None:
        """Create the bucket ``name`` through boto3 with this server's test credentials."""
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )
        s3.create_bucket(Bucket=name)

    def start(self) -> None:
        """Start the server and return once it answers HTTP; safe to call twice."""
        if self._process is not None:
            return
        atexit.register(self.stop)  # do not leak a server if the session dies early
        # The free port may be taken before the server binds it; try a few before giving up.
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                return
            except MotoServerError:
                self.stop()
                if attempt == attempts:
                    raise

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 5 s); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def _start_once(self) -> None:
        self.port = free_port()
        # A file, not a pipe: the server logs every request, and an unread pipe would fill and stall it.
        self._log = tempfile.TemporaryFile(prefix="ember-moto-")  # noqa: SIM115 - lives as long as the server
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise MotoServerError(
                    f"moto server exited with code {self._process.returncode}:\n{self._tail()}"
                )
            if self._answers():
                return
            time.sleep(0.05)
        raise MotoServerError(
            f"moto server did not answer within {self.startup_timeout:.0f} s:\n{self._tail()}"
        )

    def _answers(self) -> bool:
        try:
            with _DIRECT.open(f"{self.endpoint_url}/moto-api/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means it is serving
        except OSError:
            return False

    def _tail(self, limit: int = 4000) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-limit:]

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
