"""Client configurations for the object stores the datastore tests run against (Azurite, moto).

Each function returns the ``storage_options`` that ``fsspec.filesystem(protocol, **options)``
takes, exactly as Ember passes them to adlfs and s3fs; only the endpoint points at loopback.
``isolate_client_environment`` keeps a developer's own cloud settings out of the tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from support.azurite import AzuriteServer
from support.s3 import MotoServer

__all__ = [
    "adlfs_key_options",
    "adlfs_sas_options",
    "container_sas",
    "isolate_client_environment",
    "s3fs_options",
    "session_credentials",
]

# Settings adlfs, the Azure SDK, boto3 and s3fs read from the environment when an argument is absent.
_CLIENT_VARIABLES = (
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CLIENT_ID",
    "AZURE_STORAGE_CLIENT_SECRET",
    "AZURE_STORAGE_TENANT_ID",
    "AZURE_STORAGE_ANON",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


def isolate_client_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Clear cloud settings from the environment so only explicit options configure the clients.

    A developer's ``~/.aws``, ``AZURE_STORAGE_*`` variables or HTTP proxy must not re-credential or
    redirect a test; loopback requests bypass any proxy.
    """
    for name in _CLIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def adlfs_key_options(azurite: AzuriteServer) -> dict[str, Any]:
    """adlfs options that sign with the account key.

    A connection string is the only way to give adlfs an ``http://`` endpoint: ``account_host``
    always becomes ``https://{account_host}``, which Azurite without a certificate does not serve.
    """
    return {"connection_string": azurite.connection_string}


def adlfs_sas_options(azurite: AzuriteServer, sas_token: str) -> dict[str, Any]:
    """adlfs options that authenticate with a container SAS only (no account key).

    A container SAS cannot read the container's properties, so adlfs would warn and guess on
    every container check; ``assume_container_exists`` skips that request.
    """
    return {
        "connection_string": azurite.sas_connection_string(sas_token),
        "assume_container_exists": True,
    }


def container_sas(
    azurite: AzuriteServer,
    container: str,
    *,
    expiry: dt.datetime,
    read: bool = True,
    list_: bool = True,
    write: bool = False,
    delete: bool = False,
) -> str:
    """A SAS token (no leading ``?``) for ``container``, signed with the account key."""
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    permission = ContainerSasPermissions(
        read=read, list=list_, write=write, create=write, add=write, delete=delete
    )
    token: str = generate_container_sas(
        azurite.account_name,
        container,
        account_key=azurite.account_key,
        permission=permission,
        expiry=expiry,
    )
    return token


def s3fs_options(moto: MotoServer, *, key: str, secret: str, token: str | None = None) -> dict[str, Any]:
    """s3fs options with explicit credentials (``token`` for STS session credentials)."""
    options: dict[str, Any] = {
        "key": key,
        "secret": secret,
        "client_kwargs": {"endpoint_url": moto.endpoint_url, "region_name": moto.region},
    }
    if token is not None:
        options["token"] = token
    return options


def session_credentials(moto: MotoServer, *, duration_seconds: int = 900) -> dict[str, Any]:
    """STS ``GetSessionToken`` through boto3 against moto.

    Returns the ``Credentials`` dict: AccessKeyId, SecretAccessKey, SessionToken, Expiration.
    """
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=moto.endpoint_url,
        region_name=moto.region,
        aws_access_key_id=moto.access_key_id,
        aws_secret_access_key=moto.secret_access_key,
    )
    credentials: dict[str, Any] = sts.get_session_token(DurationSeconds=duration_seconds)["Credentials"]
    return credentials
