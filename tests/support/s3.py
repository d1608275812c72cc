"""A real, throwaway S3-compatible server for tests: moto's standalone server on a loopback port.

The server is a separate process speaking the S3 HTTP protocol, so the code under test goes
through its real client stack (s3fs, aiobotocore, botocore, aiohttp) exactly as against AWS;
nothing in the test process is patched. State lives in the server's memory and dies with it.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from support.loopback import LoopbackServer, LoopbackServerError

__all__ = ["MotoServer", "MotoServerError"]

# An opener that ignores HTTP(S)_PROXY: a proxy must never see a loopback request.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MotoServerError(LoopbackServerError):
    """The moto server did not start; the message carries its log."""


class MotoServer(LoopbackServer):
    """One ``python -m moto.server`` process on 127.0.0.1: ``start()``, use ``endpoint_url``, ``stop()``."""

    label = "moto"
    error = MotoServerError
    # moto accepts any credentials; these are what the helpers here sign with.
    access_key_id = "ember-test-key"
    secret_access_key = "ember-test-secret"
    region = "us-east-1"

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

    def _command(self, port: int, workdir: str) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]

    def _answers(self) -> bool:
        try:
            with _DIRECT.open(f"{self.endpoint_url}/moto-api/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means it is serving
        except OSError:
            return False
