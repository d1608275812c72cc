"""The SQL schema of a workspace (SQLAlchemy Core); Alembic migrations in ``migrations/`` create it.

Times are stored as float seconds since the epoch (UTC) so that ordering, filtering and duration
arithmetic are plain numeric work in both SQLite and PostgreSQL. A metric value of NaN is stored as
NULL (SQLite cannot store NaN and PostgreSQL would sort it above every number), so NULL in a
``value`` column always means NaN.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)

workspace = Table(
    "workspace",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("created_time", Float, nullable=False),
    Column("artifact_uri", Text),  # NULL: the workspace folder's own artifacts/
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text),
    Column("lifecycle_stage", String(16), nullable=False, default="active"),
    Column("created_time", Float, nullable=False),
    Column("last_activity_time", Float),
    Column("deleted_time", Float),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column("experiment_id", ID, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("experiment_id", ID, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("parent_run_id", ID, ForeignKey("runs.id", ondelete="CASCADE")),
    Column("display_name", String(250)),
    Column("description", Text),
    Column("status", String(20), nullable=False),
    Column("lifecycle_stage", String(16), nullable=False, default="active"),
    Column("run_type", String(40), nullable=False, default="interactive"),
    Column("user_name", String(250)),
    Column("created_time", Float, nullable=False),
    Column("start_time", Float),
    Column("end_time", Float),
    Column("heartbeat_time", Float),
    Column("deleted_time", Float),
    Column("error_message", Text),
    Column("error_traceback", Text),
    Column("exit_code", Integer),
    Index("ix_runs_experiment_created", "experiment_id", "lifecycle_stage", "created_time"),
    Index("ix_runs_parent", "parent_run_id"),
    Index("ix_runs_status_heartbeat", "status", "heartbeat_time"),  # the sweeper of silent runners
    Index("ix_runs_user_name", "user_name"),
)

params = Table(
    "params",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("value_num", Float),  # the value as a number when it parses as one, for numeric filters
    Index("ix_params_key_value", "key", "value"),
    Index("ix_params_key_num", "key", "value_num"),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_tags_key_value", "key", "value"),
)

properties = Table(
    "properties",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

# Full series, stored as chunks: one row per (run, key, logged batch) holding packed little-endian
# arrays (float64 values, int64 steps, float64 timestamps). Ingest is one row per batch, not per point.
metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("values", LargeBinary, nullable=False),
    Column("timestamps", LargeBinary, nullable=False),
)

# The latest point of each series (greatest step, then latest timestamp): what search filters and sorts on.
metric_latest = Table(
    "metric_latest",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Float),  # NULL = NaN
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("count", Integer, nullable=False),
    Column("next_seq", Integer, nullable=False),
    Index("ix_metric_latest_key_value", "key", "value"),
)

run_tables = Table(
    "run_tables",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("rows", Text, nullable=False),  # JSON list of row objects, one entry per append call
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_time", Float, nullable=False),
    Index("ix_artifacts_digest", "digest"),
)

compute_targets = Table(
    "compute_targets",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("max_concurrent_runs", Integer, nullable=False),
    Column("created_time", Float, nullable=False),
)

# The configuration of a submitted run (interactive runs have none).
run_configs = Table(
    "run_configs",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("compute_target", String(255), nullable=False),
    Column("config", Text, nullable=False),  # RunConfiguration JSON
    Column("snapshot_digest", String(64), ForeignKey("snapshots.digest")),
    Column("git", Text),
    Column("python_executable", Text),
    Column("cancel_requested", Integer, nullable=False, default=0),
    Index("ix_run_configs_compute", "compute_target"),
    Index("ix_run_configs_snapshot", "snapshot_digest"),
)

# A snapshot's manifest blob (its digest is the snapshot's id) and every file blob it lists, so that
# garbage collection sees the references.
snapshots = Table(
    "snapshots",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("file_count", Integer, nullable=False),
    Column("total_size", BigInteger, nullable=False),
    Column("created_time", Float, nullable=False),
)

snapshot_files = Table(
    "snapshot_files",
    metadata,
    Column(
        "snapshot_digest", String(64), ForeignKey("snapshots.digest", ondelete="CASCADE"), primary_key=True
    ),
    Column("digest", String(64), primary_key=True),
    Index("ix_snapshot_files_digest", "digest"),
)

# Logs streamed while a run executes, in chunks; ``offset`` is the chunk's first character.
run_logs = Table(
    "run_logs",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("offset", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
)

# Registered environments: one row per version. The UNIQUE (name, spec_hash) pair makes registering a
# known spec answer its version, and the primary key keeps concurrent registrations from sharing one.
environments = Table(
    "environments",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("spec", Text, nullable=False),  # EnvironmentSpec JSON, python pinned
    Column("spec_hash", String(64), nullable=False),
    Column("description", Text),
    Column("created_time", Float, nullable=False),
    UniqueConstraint("name", "spec_hash"),
)

# Registered datastores. ``config`` is the non-secret part (JSON: root, bucket, container, endpoint, ...);
# ``secret`` is the credentials' JSON encrypted with the workspace key (Fernet), never returned.
datastores = Table(
    "datastores",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("config", Text, nullable=False),
    Column("secret", Text),
    Column("description", Text),
    Column("created_time", Float, nullable=False),
)

# Registered dataset versions: a definition (JSON), the files it pointed at when registered (JSON list of
# DatasetFile, the fingerprint's inputs) and their digest. UNIQUE (name, version) keeps concurrent
# registrations of one name from sharing a number.
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("definition", Text, nullable=False),
    Column("description", Text),
    Column("tags", Text, nullable=False),
    Column("files", Text, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("total_size", BigInteger, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("source_run_id", ID, ForeignKey("runs.id", ondelete="SET NULL")),
    Column("created_time", Float, nullable=False),
    # Lifecycle (revision 0010): "active" | "deprecated" | "archived"; ``deprecated_by`` names the
    # replacement version while deprecated. Unregistering a name keeps its rows (run lineage points at
    # them) and sets ``unregistered_time``: names, lists and "latest" skip such rows.
    Column("state", String(10), nullable=False, server_default="active"),
    Column("deprecated_by", ID),
    Column("state_time", Float),
    Column("unregistered_time", Float),
    UniqueConstraint("name", "version"),
)

# Lineage: a run consumed (input) or produced (output) a dataset version, under a name within the run.
dataset_links = Table(
    "dataset_links",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("direction", String(10), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("dataset_id", ID, ForeignKey("dataset_versions.id", ondelete="CASCADE"), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("created_time", Float, nullable=False),
    Index("ix_dataset_links_dataset_id", "dataset_id"),
)

# Profiles computed on demand, one per dataset version (the data of a version is fixed by its fingerprint).
dataset_profiles = Table(
    "dataset_profiles",
    metadata,
    Column("dataset_id", ID, ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True),
    Column("profile", Text, nullable=False),
    Column("created_time", Float, nullable=False),
)

# Registered models: one row per version; files are content-addressed blobs (``model_files``), so
# registering the same bytes again stores nothing new. ``flavors``/``signature``: an MLflow model's MLmodel.
models = Table(
    "models",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("description", Text),
    Column("framework", String(100)),
    Column("framework_version", String(100)),
    Column("file_count", Integer, nullable=False),
    Column("total_size", BigInteger, nullable=False),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="SET NULL")),
    Column("experiment_id", ID, ForeignKey("experiments.id", ondelete="SET NULL")),
    Column("format", String(10), nullable=False),
    Column("flavors", Text),
    Column("signature", Text),
    Column("created_time", Float, nullable=False),
    UniqueConstraint("name", "version"),
)

model_files = Table(
    "model_files",
    metadata,
    Column("model_id", ID, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("executable", Integer, nullable=False),
    Index("ix_model_files_digest", "digest"),
)

model_tags = Table(
    "model_tags",
    metadata,
    Column("model_id", ID, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_model_tags_key_value", "key", "value"),
)

model_properties = Table(
    "model_properties",
    metadata,
    Column("model_id", ID, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_model_properties_key_value", "key", "value"),
)

# An alias names one version of a model ("production"), moved by setting it again.
model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("alias", String(63), primary_key=True),
    Column("version", Integer, nullable=False),
)

# The highest version ever given to a name in a versioned table (models, environments, dataset versions),
# so that deleting the latest version never hands its number to a different spec or file set.
version_marks = Table(
    "version_marks",
    metadata,
    Column("kind", String(63), primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("last_version", Integer, nullable=False),
)

model_datasets = Table(
    "model_datasets",
    metadata,
    Column("model_id", ID, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(255), primary_key=True),
    Column("dataset_id", ID, ForeignKey("dataset_versions.id", ondelete="CASCADE"), nullable=False),
    Index("ix_model_datasets_dataset_id", "dataset_id"),
)

# Online endpoints. Keys are stored twice: SHA-256 hashes (``primary_key_hash``/``secondary_key_hash``)
# that the serving host's router checks, and a Fernet-encrypted copy (``encrypted_keys``, JSON) that only
# ``get_keys`` decrypts for an Owner. ``encrypted_token_secret`` signs a token-auth endpoint's tokens.
# ``traffic``/``mirror_traffic`` are JSON maps of deployment name to percent; ``tags`` a JSON map.
endpoints = Table(
    "endpoints",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(32), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("auth_mode", String(10), nullable=False),
    Column("primary_key_hash", String(64), nullable=False),
    Column("secondary_key_hash", String(64), nullable=False),
    Column("encrypted_keys", Text, nullable=False),
    Column("encrypted_token_secret", Text, nullable=False),
    Column("traffic", Text, nullable=False),
    Column("mirror_traffic", Text, nullable=False),
    Column("created_time", Float, nullable=False),
    Column("updated_time", Float, nullable=False),
)

# A deployment of an endpoint: its spec (replaced by every update, which bumps ``generation``) and the
# status its replicas last reported through the serving host (``replica_states``: JSON list).
deployments = Table(
    "deployments",
    metadata,
    Column("id", ID, primary_key=True),
    Column("endpoint_id", ID, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("entry_script", String(1024)),
    Column("snapshot_digest", String(64)),
    Column("environment_name", String(255)),
    Column("environment_version", Integer),
    # Environment.current(): the deploying process's interpreter and its machine (revision 0009).
    Column("python_executable", Text),
    Column("python_machine", String(255)),
    Column("replicas", Integer, nullable=False),
    Column("autoscale", Text),  # Autoscale JSON, NULL: a fixed number of replicas
    Column("collect_data", Integer, nullable=False),
    Column("max_body_bytes", BigInteger, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_message", Text, nullable=False),
    Column("desired_replicas", Integer, nullable=False),
    Column("ready_replicas", Integer, nullable=False),
    Column("restarts", Integer, nullable=False),
    Column("replica_states", Text, nullable=False),
    Column("created_time", Float, nullable=False),
    Column("updated_time", Float, nullable=False),
    UniqueConstraint("endpoint_id", "name"),
    Index("ix_deployments_snapshot_digest", "snapshot_digest"),
)

# The model versions a deployment serves, in the order given. No ON DELETE: a served model version is
# protected (the registry asks the endpoints area before deleting one).
deployment_models = Table(
    "deployment_models",
    metadata,
    Column("deployment_id", ID, ForeignKey("deployments.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("model_id", ID, ForeignKey("models.id"), nullable=False),
    Index("ix_deployment_models_model_id", "model_id"),
)

# One row (id 1) once the workspace has an endpoint: the serving host's port, the desired-state revision
# (bumped by every endpoint or deployment change) and the lease of the host process that serves it.
serving_host = Table(
    "serving_host",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("port", Integer, nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("applied_revision", BigInteger, nullable=False),
    Column("owner", String(64)),  # the host id holding the lease; NULL: none
    Column("pid", Integer),
    Column("hostname", String(255)),
    Column("started_time", Float),
    Column("heartbeat_time", Float),
    Column("spawn_time", Float),  # when a control plane last started a host process
)

# Every column that references a content-addressed blob; garbage collection frees a blob only when
# no row in any of them names it. Later features (snapshots, models) add theirs here.
BLOB_REFERENCES = [
    artifacts.c.digest,
    snapshots.c.digest,
    snapshot_files.c.digest,
    model_files.c.digest,
    deployments.c.snapshot_digest,
]
