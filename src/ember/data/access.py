"""Building fsspec access to a datastore from its stored configuration and credentials.

Two kinds of access: *internal* access (the server's own reads: resolving a dataset's files, previews,
profiles) uses the stored credentials and never leaves the process; *client* access, what
``get_datastore_access`` hands out, carries short-lived credentials derived from them — an Azure
container SAS signed with the account key, an STS session for S3 keys — and the stored secret only for
a datastore registered with ``credential_passthrough``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from ember.entities.data import DatastoreAccess, DatastoreInfo
from ember.errors import InvalidInput

__all__ = ["ACCESS_TTL_SECONDS", "build_access"]

logger = logging.getLogger(__name__)

ACCESS_TTL_SECONDS = 3600


def _joined(*parts: str | None) -> str:
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def _s3_client_kwargs(info: DatastoreInfo) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if info.endpoint:
        kwargs["endpoint_url"] = info.endpoint
    if info.region:
        kwargs["region_name"] = info.region
    return kwargs


def _sts_session(info: DatastoreInfo, credentials: dict[str, str]) -> tuple[dict[str, str], datetime]:
    """Session keys for S3 from STS GetSessionToken, valid for ``ACCESS_TTL_SECONDS``."""
    import botocore.session
    from botocore.exceptions import BotoCoreError, ClientError

    session = botocore.session.get_session()
    client = session.create_client(
        "sts",
        aws_access_key_id=credentials["access_key_id"],
        aws_secret_access_key=credentials["secret_access_key"],
        aws_session_token=credentials.get("session_token"),
        region_name=info.region or "us-east-1",
        endpoint_url=info.endpoint,  # an S3-compatible service usually serves STS on the same endpoint
    )
    try:
        answer = client.get_session_token(DurationSeconds=ACCESS_TTL_SECONDS)["Credentials"]
    except (BotoCoreError, ClientError) as exc:
        raise InvalidInput(
            f"datastore {info.name!r}: the storage does not issue short-lived credentials (STS "
            f"GetSessionToken failed: {type(exc).__name__}); register it with credential_passthrough=True "
            "to let clients use its stored keys"
        ) from None
    expires = answer["Expiration"]
    if not isinstance(expires, datetime):
        expires = datetime.now(UTC) + timedelta(seconds=ACCESS_TTL_SECONDS)
    return (
        {"key": answer["AccessKeyId"], "secret": answer["SecretAccessKey"], "token": answer["SessionToken"]},
        expires.astimezone(UTC),
    )


def _container_sas(info: DatastoreInfo, account_key: str, *, write: bool) -> tuple[str, datetime]:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ACCESS_TTL_SECONDS)
    permission = ContainerSasPermissions(
        read=True, list=True, write=write, add=write, create=write, delete=write
    )
    assert info.account_name is not None
    assert info.container_name is not None
    sas = generate_container_sas(
        info.account_name,
        info.container_name,
        account_key=account_key,
        permission=permission,
        expiry=expires,
        start=now - timedelta(minutes=5),  # tolerate clock skew between here and the storage
    )
    return sas, expires


def _azure_options(info: DatastoreInfo, *, account_key: str | None, sas_token: str | None) -> dict[str, Any]:
    """adlfs options. A custom endpoint (Azurite, sovereign clouds, private links) can only be given in
    a connection string: adlfs builds ``https://<account_host>`` itself. Nothing else goes beside a
    connection string (adlfs would prefer an account name or key and the default host on some paths)."""
    if info.endpoint:
        if account_key:
            protocol = "https" if info.endpoint.startswith("https") else "http"
            return {
                "connection_string": (
                    f"DefaultEndpointsProtocol={protocol};AccountName={info.account_name};"
                    f"AccountKey={account_key};BlobEndpoint={info.endpoint};"
                )
            }
        sas = (sas_token or "").lstrip("?")
        return {
            "connection_string": f"BlobEndpoint={info.endpoint};SharedAccessSignature={sas}",
            # A container SAS cannot read the container's properties, which adlfs asks for by default.
            "assume_container_exists": True,
        }
    if account_key:
        return {"account_name": info.account_name, "account_key": account_key}
    return {"account_name": info.account_name, "sas_token": sas_token, "assume_container_exists": True}


def build_access(
    info: DatastoreInfo,
    credentials: dict[str, str],
    *,
    artifact_root: str | None = None,
    write: bool = False,
    internal: bool = False,
) -> DatastoreAccess:
    """fsspec access to a datastore; ``internal`` access uses the stored credentials as they are."""
    if info.kind == "workspace":
        assert artifact_root is not None
        from fsspec.core import split_protocol

        protocol, path = split_protocol(artifact_root)
        if protocol in (None, "file"):
            return DatastoreAccess(datastore=info.name, protocol="file", root=_root_file(path, "datastore"))
        if protocol in ("s3", "s3a"):
            return DatastoreAccess(datastore=info.name, protocol="s3", root=_joined(path, "datastore"))
        if protocol in ("abfs", "az", "abfss"):
            return DatastoreAccess(datastore=info.name, protocol="abfs", root=_joined(path, "datastore"))
        raise InvalidInput(f"the workspace's artifact store ({protocol}://) cannot serve as a datastore")
    if info.kind == "local":
        assert info.root is not None
        return DatastoreAccess(datastore=info.name, protocol="file", root=_root_file(info.root, info.prefix))
    if info.kind == "s3":
        options: dict[str, Any] = {}
        client_kwargs = _s3_client_kwargs(info)
        if client_kwargs:
            options["client_kwargs"] = client_kwargs
        expires: datetime | None = None
        if credentials:
            if internal or info.credential_passthrough:
                options.update(key=credentials["access_key_id"], secret=credentials["secret_access_key"])
                if credentials.get("session_token"):
                    options["token"] = credentials["session_token"]
            else:
                session, expires = _sts_session(info, credentials)
                options.update(session)
        root = _joined(info.bucket, info.prefix)
        return DatastoreAccess(
            datastore=info.name, protocol="s3", root=root, storage_options=options, expires_time=expires
        )
    # azure_blob
    account_key = credentials.get("account_key")
    sas_token = credentials.get("sas_token")
    expires = None
    if account_key and not internal and not info.credential_passthrough:
        sas_token, expires = _container_sas(info, account_key, write=write)
        account_key = None
    options = _azure_options(info, account_key=account_key, sas_token=sas_token)
    return DatastoreAccess(
        datastore=info.name,
        protocol="abfs",
        root=_joined(info.container_name, info.prefix),
        storage_options=options,
        expires_time=expires,
    )


def _root_file(root: str, prefix: str) -> str:
    from pathlib import Path

    base = Path(root)
    return str(base / prefix) if prefix else str(base)
