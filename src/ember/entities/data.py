"""Entities of the data area: datastores, dataset definitions, registered dataset versions, lineage.

A dataset *definition* is plain data (sources in datastores, parse options, a chain of transformations),
so it travels over the wire, is stored with a registered version and is re-read lazily anywhere.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ember.entities.tracking import MAX_DESCRIPTION, MAX_TAG_VALUE, NAME_PATTERN, check_mapping

__all__ = [
    "COLUMN_TYPES",
    "DATASET_STATES",
    "DEFAULT_DATASTORE",
    "ColumnProfile",
    "DatasetDefinition",
    "DatasetDeprecate",
    "DatasetFile",
    "DatasetLink",
    "DatasetPreview",
    "DatasetProfile",
    "DatasetRegister",
    "DatasetSource",
    "DatasetState",
    "DatasetVersionInfo",
    "DatastoreAccess",
    "DatastoreEntry",
    "DatastoreInfo",
    "DatastoreListing",
    "DatastoreRegister",
    "ParseOptions",
    "RunDatasetInput",
    "RunDatasetOutput",
    "Transform",
    "check_relative_path",
]

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
DEFAULT_DATASTORE = "workspace"
DatastoreKind = Literal["workspace", "local", "s3", "azure_blob"]
DatasetState = Literal["active", "deprecated", "archived"]
DATASET_STATES: tuple[str, ...] = ("active", "deprecated", "archived")
ColumnType = Literal["string", "int", "float", "bool", "datetime", "date"]
COLUMN_TYPES: tuple[str, ...] = ("string", "int", "float", "bool", "datetime", "date")
MAX_SOURCES = 1000
_COLUMN_RE = re.compile(r"^[^\x00]{1,1024}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


def check_relative_path(path: str, *, allow_glob: bool = True) -> str:
    """A path inside a datastore: relative, ``/``-separated, no ``..``; raises ``ValueError``."""
    if not isinstance(path, str) or "\x00" in path or "\\" in path or len(path) > 4096:
        raise ValueError("a datastore path is text of at most 4096 characters, '/'-separated, without NUL")
    stripped = path.strip("/")
    parts = [p for p in stripped.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"a datastore path may not contain '.' or '..' segments: {path!r}")
    if not allow_glob and any(ch in stripped for ch in "*?["):
        raise ValueError(f"this path may not contain glob characters: {path!r}")
    return "/".join(parts)


# ---- datastores -----------------------------------------------------------------------------------


class DatastoreRegister(_Model):
    """Request body to register a datastore; ``credentials`` are stored encrypted and never returned.

    ``local``: ``root`` (an absolute folder). ``s3``: ``bucket``, optional ``prefix``, ``region``,
    ``endpoint``; credentials ``access_key_id`` + ``secret_access_key`` (none: the server's own AWS
    credentials). ``azure_blob``: ``account_name``, ``container_name``, optional ``prefix``, ``endpoint``;
    credentials ``account_key`` or ``sas_token``.
    """

    name: Name
    kind: Literal["local", "s3", "azure_blob"]
    root: str | None = Field(default=None, max_length=4096)
    bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.\-]{1,62}$")
    container_name: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    account_name: str | None = Field(default=None, pattern=r"^[a-z0-9]{3,24}$")
    prefix: str = Field(default="", max_length=1024)
    region: str | None = Field(default=None, pattern=r"^[a-z0-9\-]{1,64}$")
    endpoint: str | None = Field(default=None, max_length=2048)
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    credential_passthrough: bool = False  # hand the stored keys to clients where no short-lived form exists
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    overwrite: bool = False

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        return check_relative_path(v, allow_glob=False)

    @field_validator("credentials")
    @classmethod
    def _credentials(cls, v: dict[str, SecretStr]) -> dict[str, SecretStr]:
        allowed = {"access_key_id", "secret_access_key", "session_token", "account_key", "sas_token"}
        unknown = sorted(set(v) - allowed)
        if unknown:
            raise ValueError(f"unknown credential fields {unknown}; known: {sorted(allowed)}")
        for key, secret in v.items():
            raw = secret.get_secret_value()
            if not raw or len(raw) > 8192 or "\x00" in raw:
                raise ValueError(f"credential {key!r} must be non-empty text of at most 8192 characters")
        return v

    @model_validator(mode="after")
    def _fields_of_kind(self) -> DatastoreRegister:
        if self.container_name is not None and "--" in self.container_name:
            raise ValueError("an Azure container name may not contain '--'")
        creds = set(self.credentials)
        if self.kind == "local":
            if not self.root:
                raise ValueError("a local datastore needs root: an absolute folder path")
            if self.bucket or self.container_name or self.account_name or self.endpoint or creds:
                raise ValueError("a local datastore takes only root (and prefix, description)")
        elif self.kind == "s3":
            if not self.bucket:
                raise ValueError("an s3 datastore needs bucket")
            if self.root or self.container_name or self.account_name:
                raise ValueError("an s3 datastore takes bucket, prefix, region, endpoint and credentials")
            if creds and not {"access_key_id", "secret_access_key"} <= creds:
                raise ValueError("s3 credentials need both access_key_id and secret_access_key")
            if creds & {"account_key", "sas_token"}:
                raise ValueError("account_key and sas_token are Azure credentials, not S3 ones")
        else:
            if not self.account_name or not self.container_name:
                raise ValueError("an azure_blob datastore needs account_name and container_name")
            if self.root or self.bucket or self.region:
                raise ValueError(
                    "an azure_blob datastore takes account_name, container_name, prefix, endpoint"
                )
            if len(creds & {"account_key", "sas_token"}) != 1 or creds - {"account_key", "sas_token"}:
                raise ValueError("an azure_blob datastore needs exactly one of account_key or sas_token")
        return self


class DatastoreInfo(_Model):
    """A registered datastore as the API shows it: where it points, never its credentials."""

    name: str
    kind: DatastoreKind
    root: str | None = None
    bucket: str | None = None
    container_name: str | None = None
    account_name: str | None = None
    prefix: str = ""
    region: str | None = None
    endpoint: str | None = None
    credential_type: Literal["none", "keys", "account_key", "sas_token", "ambient"] = "none"
    credential_passthrough: bool = False
    description: str | None = None
    is_default: bool = False
    url: str  # where the data lives, e.g. s3://bucket/prefix, for people to read
    created_time: datetime


class DatastoreAccess(_Model):
    """What a client needs to read or write a datastore: an fsspec URL and short-lived options.

    ``storage_options`` carries credentials derived for this access (an Azure SAS, STS session keys)
    with ``expires_time``; the stored secret is handed out only for datastores registered with
    ``credential_passthrough``.
    """

    datastore: str
    protocol: Literal["file", "s3", "abfs"]
    root: str  # fsspec path of the datastore's root: "/abs/dir", "bucket/prefix", "container/prefix"
    storage_options: dict[str, Any] = Field(default_factory=dict)
    expires_time: datetime | None = None

    def __repr__(self) -> str:  # never show the options: they hold credentials
        return (
            f"DatastoreAccess(datastore={self.datastore!r}, protocol={self.protocol!r}, root={self.root!r})"
        )

    __str__ = __repr__


class DatastoreEntry(_Model):
    """A file or folder directly under a path of a datastore."""

    path: str  # relative to the datastore's root
    kind: Literal["file", "folder"]
    size: int | None = None
    modified_time: float | None = None


class DatastoreListing(_Model):
    """One level of a datastore's tree, folders first, then files, by name."""

    datastore: str
    path: str
    entries: list[DatastoreEntry]
    truncated: bool = False


# ---- dataset definitions --------------------------------------------------------------------------


class DatasetSource(_Model):
    """Files in a datastore: a path or a glob (``*``, ``**``, ``?``) relative to the datastore's root."""

    datastore: Name
    path: str

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        checked = check_relative_path(v)
        if not checked:
            raise ValueError("a dataset source needs a path inside the datastore (use '**' for everything)")
        return checked


class ParseOptions(_Model):
    """How tabular files are parsed."""

    separator: str = Field(default=",", min_length=1, max_length=1)
    header: bool = True
    encoding: Literal["utf-8", "latin-1", "utf-16", "cp1252"] = "utf-8"
    quote_char: str | None = Field(default='"', max_length=1)
    skip_rows: int = Field(default=0, ge=0, le=1_000_000)
    null_values: list[str] | None = Field(default=None, max_length=100)
    set_column_types: dict[str, ColumnType] = Field(default_factory=dict)
    include_path: bool = False  # add a "path" column naming each row's file

    @field_validator("set_column_types", mode="before")
    @classmethod
    def _types(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for column, kind in v.items():
                if kind not in COLUMN_TYPES:
                    raise ValueError(
                        f"unknown column type {kind!r} for column {column!r}; "
                        f"use one of {', '.join(COLUMN_TYPES)}"
                    )
        return v


class _Take(_Model):
    op: Literal["take"]
    count: int = Field(ge=0, le=2**62)


class _Skip(_Model):
    op: Literal["skip"]
    count: int = Field(ge=0, le=2**62)


class _KeepColumns(_Model):
    op: Literal["keep_columns"]
    columns: list[Annotated[str, Field(pattern=_COLUMN_RE.pattern)]] = Field(min_length=1, max_length=10_000)


class _DropColumns(_Model):
    op: Literal["drop_columns"]
    columns: list[Annotated[str, Field(pattern=_COLUMN_RE.pattern)]] = Field(min_length=1, max_length=10_000)


class _Filter(_Model):
    op: Literal["filter"]
    expression: str = Field(min_length=1, max_length=10_000)


class _RandomSplit(_Model):
    """One side of a seeded random split: row i goes left when draw i of ``default_rng(seed)`` < fraction."""

    op: Literal["random_split"]
    fraction: float = Field(gt=0.0, lt=1.0)
    seed: int = Field(ge=0, le=2**32 - 1)
    side: Literal["left", "right"]


class _TakeSample(_Model):
    op: Literal["take_sample"]
    probability: float = Field(gt=0.0, le=1.0)
    seed: int = Field(ge=0, le=2**32 - 1)


Transform = Annotated[
    _Take | _Skip | _KeepColumns | _DropColumns | _Filter | _RandomSplit | _TakeSample,
    Field(discriminator="op"),
]


class DatasetDefinition(_Model):
    """What a dataset is: files in datastores, how to parse them, and transformations, all lazy."""

    kind: Literal["tabular", "file"]
    sources: list[DatasetSource] = Field(min_length=1, max_length=MAX_SOURCES)
    format: Literal["delimited", "parquet", "json_lines"] | None = None
    parse: ParseOptions = Field(default_factory=ParseOptions)
    transforms: list[Transform] = Field(default_factory=list, max_length=1000)
    timestamp_column: str | None = Field(default=None, max_length=1024)

    @model_validator(mode="after")
    def _consistent(self) -> DatasetDefinition:
        if self.kind == "tabular" and self.format is None:
            raise ValueError("a tabular dataset needs a format: delimited, parquet or json_lines")
        if self.kind == "file" and (self.format is not None or self.transforms or self.timestamp_column):
            raise ValueError("a file dataset has no format, transformations or timestamp column")
        return self


class DatasetFile(_Model):
    """One file a dataset version points at, with what identifies its content at registration."""

    datastore: str
    path: str  # relative to the datastore's root
    size: int
    modified_time: float | None = None
    etag: str | None = None


class DatasetRegister(_Model):
    """Request body to register a dataset definition under a name as a new (or the same) version."""

    name: Name
    definition: DatasetDefinition
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: dict[str, str] = Field(default_factory=dict)
    create_new_version: bool = False
    source_run_id: str | None = Field(default=None, max_length=64)  # a run's output becomes this version
    output_name: Name | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "tag", MAX_TAG_VALUE)


class DatasetVersionInfo(_Model):
    """A registered dataset version: its definition and the fingerprint of the data it pointed at."""

    id: str
    name: str
    version: int
    kind: Literal["tabular", "file"]
    definition: DatasetDefinition
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    file_count: int
    total_size: int
    fingerprint: str  # sha256 over the files' identities
    source_run_id: str | None = None
    has_profile: bool = False
    created_time: datetime
    # Lifecycle (Azure ML's): deprecated versions still read, with a warning naming ``deprecated_by``;
    # archived ones are hidden from lists and "latest" and refuse to be read or used as a run input.
    state: DatasetState = "active"
    deprecated_by: str | None = None  # the replacement version's id, while ``state`` is "deprecated"
    deprecated_by_name: str | None = None
    deprecated_by_version: int | None = None
    state_time: datetime | None = None  # when the state last changed (None: never)
    # Set once the name was unregistered: the version is gone from names and lists, found only by id
    # (run lineage keeps pointing at it).
    unregistered_time: datetime | None = None


class DatasetDeprecate(_Model):
    """Request body to deprecate a dataset version in favour of another version (its replacement)."""

    deprecated_by: str = Field(min_length=1, max_length=64, description="The replacement version's id.")


class DatasetLink(_Model):
    """A run consumed (``input``) or produced (``output``) a dataset version."""

    run_id: str
    dataset_id: str
    dataset_name: str
    dataset_version: int
    direction: Literal["input", "output"]
    name: str  # the input's or output's name in the run
    mode: Literal["direct", "download", "output"]
    created_time: datetime


class RunDatasetInput(_Model):
    """A dataset version a submitted run consumes, by input name."""

    name: Name
    dataset_id: str = Field(min_length=1, max_length=64)
    mode: Literal["direct", "download"] = "direct"
    path_on_compute: str | None = Field(default=None, max_length=1024)

    @field_validator("path_on_compute")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        return None if v is None else check_relative_path(v, allow_glob=False) or None


class DatasetPreview(_Model):
    """The first rows of a tabular dataset: column names and types, rows as JSON values."""

    columns: list[tuple[str, str]]  # (name, type)
    rows: list[list[Any]]


class RunDatasetOutput(_Model):
    """A folder a submitted run writes, uploaded to a datastore when the script succeeds and registered.

    ``path`` may contain ``{run_id}`` and ``{name}``. The upload becomes a new version of dataset
    ``register_as`` (default: the output's name): a file dataset, or a tabular one when ``format`` is set.
    """

    name: Name
    datastore: Name = DEFAULT_DATASTORE
    path: str = Field(default="outputs/{run_id}/{name}", min_length=1, max_length=1024)
    register_as: Name | None = None
    format: Literal["delimited", "parquet", "json_lines"] | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        checked = check_relative_path(v, allow_glob=False)
        if not checked:
            raise ValueError("an output needs a folder path inside the datastore")
        return checked


# ---- profiles -------------------------------------------------------------------------------------


class ColumnProfile(_Model):
    """Summary statistics of one column."""

    name: str
    type: str
    count: int
    missing: int
    unique: int | None = None
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] | None = None  # "0.01", "0.25", "0.5", ...
    histogram: list[tuple[float, float, int]] | None = None  # (low, high, count) bins
    top_values: list[tuple[Any, int]] | None = None


class DatasetProfile(_Model):
    """Per-column statistics of a tabular dataset version, computed on demand and cached."""

    dataset_id: str | None = None
    row_count: int
    columns: list[ColumnProfile]
    computed_time: datetime
    duration_seconds: float
