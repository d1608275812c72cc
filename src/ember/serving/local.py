"""LocalEndpoints: the rules of online endpoints on a workspace's metadata database.

This is the control plane: it records the desired state (endpoints, keys, traffic, deployments) and a
revision counter bumped by every change; the serving host (``python -m ember.hosting``, one per workspace
and machine, holding a lease in the ``serving_host`` row) polls the revision, applies the state and
reports each deployment's replicas back through the host-side methods at the end of this class.

Keys are stored as SHA-256 hashes, which is all the router ever gets, plus a copy encrypted with the
workspace key (``SecretBox``) so that ``get_keys`` can show them to an Owner; no key or token ever goes
into a list or get answer, an exception message or a log line.
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import logging
import re
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import httpx
from pydantic import ValidationError
from sqlalchemy import Connection, RowMapping, and_, delete, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from ember.artifacts import BlobStore
from ember.artifacts.paths import normalize_artifact_path
from ember.contracts.endpoints import EndpointsBackend
from ember.data.secrets import SecretBox
from ember.entities.jobs import EnvironmentRef
from ember.entities.serving import (
    DeploymentCreate,
    DeploymentInfo,
    DeploymentLogs,
    DeploymentModel,
    DeploymentStatus,
    DeploymentTelemetry,
    EndpointCreate,
    EndpointInfo,
    EndpointInvoke,
    EndpointInvokeResult,
    EndpointKeys,
    EndpointTelemetry,
    EndpointToken,
    EndpointUpdate,
    ReplicaStatus,
    RoutedEndpoint,
    ServingHostInfo,
    ServingState,
)
from ember.errors import Conflict, InvalidInput, NotFound, Unavailable
from ember.jobs import snapshot as snapshots_
from ember.serving import keys, lease
from ember.serving.interpreter import check_interpreter
from ember.serving.records import (
    alive,
    bump_revision,
    check_endpoint_name,
    deployment_info,
    deployment_row,
    deployments_of,
    endpoint_row,
    host_row,
    serving_base,
    tail_lines,
    validated,
)
from ember.store.database import Database
from ember.store.schema import deployment_models, deployments, endpoints, snapshots

if TYPE_CHECKING:
    from ember.environments.local import LocalEnvironments
    from ember.registry.local import LocalRegistry

__all__ = ["LocalEndpoints"]

logger = logging.getLogger(__name__)

TELEMETRY_TIMEOUT_SECONDS = 2.0
INVOKE_TIMEOUT_SECONDS = 60.0
MAX_TAIL = 10_000
MAX_MIRROR_PERCENT = 50
_FALLBACK_REPLICA_LOGS = 4
_MAX_STATUS_MESSAGE = 4000
_EVENTS_LOG = "events.log"
_SAFE_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_STATUSES = frozenset(get_args(DeploymentStatus))


def _percentages(values: dict[str, int]) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.items()}


class LocalEndpoints(EndpointsBackend):
    """Endpoints in the workspace's tables; their replicas run in the serving host process."""

    def __init__(
        self,
        *,
        database: Database,
        blobs: BlobStore,
        registry: LocalRegistry,
        environments: LocalEnvironments,
        secrets: SecretBox,
        workspace_target: str,
        artifact_uri: str | None,
        state_dir: Path,
        autostart_host: bool,
    ) -> None:
        self.database = database
        self.blobs = blobs
        self.registry = registry
        self.environments = environments
        self.secrets = secrets
        self.workspace_target = workspace_target
        self.artifact_uri = artifact_uri
        self.state_dir = state_dir
        self.autostart_host = autostart_host
        registry.add_deployment_guard(self._serving)
        environments.add_deployment_guard(self._running_in)

    # ---- reading rows into entities -------------------------------------------------------------------

    def _infos(self, conn: Connection, rows: builtins.list[RowMapping]) -> builtins.list[EndpointInfo]:
        host = host_row(conn)
        base = serving_base(host["port"] if host is not None else None)
        by_endpoint = deployments_of(conn, rows)
        return [
            EndpointInfo(
                id=row["id"],
                name=row["name"],
                description=row["description"],
                tags=json.loads(row["tags"]),
                auth_mode=row["auth_mode"],
                scoring_uri=f"{base}/endpoints/{row['name']}/score",
                swagger_uri=f"{base}/endpoints/{row['name']}/swagger.json",
                traffic=json.loads(row["traffic"]),
                mirror_traffic=json.loads(row["mirror_traffic"]),
                deployments=by_endpoint[row["id"]],
                created_time=row["created_time"],
                updated_time=row["updated_time"],
            )
            for row in rows
        ]

    def _info(self, conn: Connection, name: str) -> EndpointInfo:
        return self._infos(conn, [endpoint_row(conn, name)])[0]

    def _decrypt(self, row: RowMapping, column: str) -> dict[str, str]:
        try:
            return self.secrets.decrypt(row[column], what=f"endpoint {row['name']!r}")
        except Conflict:
            raise Conflict(
                f"the workspace key does not decrypt the secrets of endpoint {row['name']!r}: is this the "
                "key they were stored with? Delete the endpoint and create it again to get new keys"
            ) from None

    def _serving(self, model_id: str) -> builtins.list[str]:
        """The deployments (``endpoint/deployment``) that serve a model version: the registry's guard."""
        with self.database.read() as conn:
            rows = conn.execute(
                select(endpoints.c.name, deployments.c.name)
                .select_from(deployment_models)
                .join(deployments, deployments.c.id == deployment_models.c.deployment_id)
                .join(endpoints, endpoints.c.id == deployments.c.endpoint_id)
                .where(deployment_models.c.model_id == model_id)
                .order_by(endpoints.c.name, deployments.c.name)
            ).all()
        return [f"{endpoint}/{deployment}" for endpoint, deployment in rows]

    def _running_in(self, name: str, version: int) -> builtins.list[str]:
        """The deployments (``endpoint/deployment``) that run in an environment version: its guard."""
        with self.database.read() as conn:
            rows = conn.execute(
                select(endpoints.c.name, deployments.c.name)
                .select_from(deployments)
                .join(endpoints, endpoints.c.id == deployments.c.endpoint_id)
                .where(
                    and_(deployments.c.environment_name == name, deployments.c.environment_version == version)
                )
                .order_by(endpoints.c.name, deployments.c.name)
            ).all()
        return [f"{endpoint}/{deployment}" for endpoint, deployment in rows]

    # ---- endpoints ----------------------------------------------------------------------------------

    def create_endpoint(self, request: EndpointCreate) -> EndpointInfo:
        request = validated(EndpointCreate, request)
        primary, secondary = keys.new_key(), keys.new_key()
        encrypted_keys = self.secrets.encrypt({"primary_key": primary, "secondary_key": secondary})
        encrypted_secret = self.secrets.encrypt({"token_secret": keys.new_token_secret()})
        taken = Conflict(f"an endpoint named {request.name!r} exists: choose another name or update it")
        now = time.time()
        try:
            with self.database.write() as conn:
                if conn.execute(select(endpoints.c.id).where(endpoints.c.name == request.name)).first():
                    raise taken
                conn.execute(
                    insert(endpoints).values(
                        id=uuid.uuid4().hex,
                        name=request.name,
                        description=request.description,
                        tags=json.dumps(request.tags, sort_keys=True),
                        auth_mode=request.auth_mode,
                        primary_key_hash=keys.hash_key(primary),
                        secondary_key_hash=keys.hash_key(secondary),
                        encrypted_keys=encrypted_keys,
                        encrypted_token_secret=encrypted_secret,
                        traffic="{}",
                        mirror_traffic="{}",
                        created_time=now,
                        updated_time=now,
                    )
                )
                bump_revision(conn)
                info = self._info(conn, request.name)
        except IntegrityError:
            raise taken from None
        logger.info("created endpoint %s (%s auth)", request.name, request.auth_mode)
        self.ensure_host()
        return info

    def get_endpoint(self, name: str) -> EndpointInfo:
        with self.database.read() as conn:
            return self._info(conn, name)

    def list_endpoints(self) -> builtins.list[EndpointInfo]:
        with self.database.read() as conn:
            rows = conn.execute(select(endpoints).order_by(endpoints.c.name)).mappings().all()
            return self._infos(conn, list(rows))

    @staticmethod
    def _check_traffic(endpoint: str, values: dict[str, int], names: builtins.list[str]) -> dict[str, int]:
        for deployment, percent in values.items():
            if deployment not in names:
                known = ", ".join(names) or "none yet"
                raise InvalidInput(
                    f"traffic names deployment {deployment!r}, which endpoint {endpoint!r} does not have "
                    f"(its deployments: {known})"
                )
            if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
                raise InvalidInput(
                    f"traffic to deployment {deployment!r} is {percent!r}: give a whole percentage "
                    "from 0 to 100"
                )
        total = sum(values.values())
        if total not in (0, 100):
            raise InvalidInput(
                f"the traffic percentages sum to {total}: they must sum to 100 (or all be 0, which makes "
                "the endpoint answer 503)"
            )
        return {name: values.get(name, 0) for name in names}

    @staticmethod
    def _check_mirror(endpoint: str, values: dict[str, int], names: builtins.list[str]) -> dict[str, int]:
        for deployment, percent in values.items():
            if deployment not in names:
                known = ", ".join(names) or "none yet"
                raise InvalidInput(
                    f"mirror traffic names deployment {deployment!r}, which endpoint {endpoint!r} does not "
                    f"have (its deployments: {known})"
                )
            if (
                isinstance(percent, bool)
                or not isinstance(percent, int)
                or not 0 <= percent <= MAX_MIRROR_PERCENT
            ):
                raise InvalidInput(
                    f"mirror traffic to deployment {deployment!r} is {percent!r}: mirror from 1 to "
                    f"{MAX_MIRROR_PERCENT} percent of live requests (0 stops mirroring)"
                )
        kept = {name: percent for name, percent in values.items() if percent > 0}
        if len(kept) > 1:
            raise InvalidInput(
                f"mirror traffic goes to at most one deployment, not {len(kept)} ({', '.join(sorted(kept))})"
            )
        return kept

    def update_endpoint(self, name: str, update: EndpointUpdate) -> EndpointInfo:
        change = validated(EndpointUpdate, update)
        with self.database.write() as conn:
            row = endpoint_row(conn, name)
            names = [
                r[0]
                for r in conn.execute(
                    select(deployments.c.name)
                    .where(deployments.c.endpoint_id == row["id"])
                    .order_by(deployments.c.name)
                )
            ]
            traffic: dict[str, int] = json.loads(row["traffic"])
            mirror: dict[str, int] = json.loads(row["mirror_traffic"])
            if change.traffic is not None:
                traffic = self._check_traffic(name, _percentages(change.traffic), names)
            if change.mirror_traffic is not None:
                mirror = self._check_mirror(name, _percentages(change.mirror_traffic), names)
            for deployment in mirror:
                if traffic.get(deployment, 0) > 0:
                    raise InvalidInput(
                        f"deployment {deployment!r} takes {traffic[deployment]}% of live traffic, so it "
                        "cannot also get mirrored traffic: set its traffic to 0 first"
                    )
            values: dict[str, Any] = {
                "traffic": json.dumps(traffic, sort_keys=True),
                "mirror_traffic": json.dumps(mirror, sort_keys=True),
                "updated_time": time.time(),
            }
            if change.description is not None:
                values["description"] = change.description
            if change.tags is not None:
                values["tags"] = json.dumps(change.tags, sort_keys=True)
            conn.execute(sql_update(endpoints).where(endpoints.c.id == row["id"]).values(**values))
            revision = bump_revision(conn)
            info = self._info(conn, name)
        logger.info("updated endpoint %s (traffic %s, mirror %s)", name, info.traffic, info.mirror_traffic)
        lease.await_applied(self.database, revision)
        return info

    def delete_endpoint(self, name: str) -> None:
        check_endpoint_name(name)
        with self.database.write() as conn:
            gone = conn.execute(
                delete(endpoints).where(endpoints.c.name == name).returning(endpoints.c.id)
            ).first()
            if gone is None:
                raise NotFound(f"endpoint {name!r} not found")
            revision = bump_revision(conn)
        logger.info("deleted endpoint %s", name)
        lease.await_applied(self.database, revision)

    # ---- keys and tokens ----------------------------------------------------------------------------

    def get_keys(self, name: str) -> EndpointKeys:
        with self.database.read() as conn:
            row = endpoint_row(conn, name)
        if row["auth_mode"] != "key":
            raise InvalidInput(f"endpoint {name!r} uses token auth: it has no keys; ask for a token instead")
        stored = self._decrypt(row, "encrypted_keys")
        return EndpointKeys(primary_key=stored["primary_key"], secondary_key=stored["secondary_key"])

    def regenerate_key(self, name: str, key_type: str) -> EndpointKeys:
        if key_type not in ("primary", "secondary"):
            raise InvalidInput(f"key_type is 'primary' or 'secondary', not {str(key_type)[:40]!r}")
        with self.database.write() as conn:
            row = endpoint_row(conn, name)
            if row["auth_mode"] != "key":
                raise InvalidInput(f"endpoint {name!r} uses token auth: it has no keys to regenerate")
            stored = self._decrypt(row, "encrypted_keys")
            fresh = keys.new_key()
            stored[f"{key_type}_key"] = fresh
            conn.execute(
                sql_update(endpoints)
                .where(endpoints.c.id == row["id"])
                .values(
                    {
                        f"{key_type}_key_hash": keys.hash_key(fresh),
                        "encrypted_keys": self.secrets.encrypt(stored),
                        "updated_time": time.time(),
                    }
                )
            )
            revision = bump_revision(conn)
        logger.info("regenerated the %s key of endpoint %s", key_type, name)
        lease.await_applied(self.database, revision)
        return EndpointKeys(primary_key=stored["primary_key"], secondary_key=stored["secondary_key"])

    def get_token(self, name: str) -> EndpointToken:
        with self.database.read() as conn:
            row = endpoint_row(conn, name)
        if row["auth_mode"] != "token":
            raise InvalidInput(
                f"endpoint {name!r} uses key auth: it takes its keys, not tokens (see get_keys)"
            )
        secret = self._decrypt(row, "encrypted_token_secret")["token_secret"]
        token, expiry = keys.make_token(secret, row["id"])
        return EndpointToken(access_token=token, expiry_time=expiry)

    # ---- deployments --------------------------------------------------------------------------------

    def _check_code(self, request: DeploymentCreate) -> tuple[str | None, builtins.list[DeploymentModel]]:
        """The normalized entry script and the models served; refuses what could not be served."""
        served = []
        flavors = []
        for model_id in request.model_ids:
            model = self.registry.get_model_by_id(model_id)  # NotFound names the id
            served.append(DeploymentModel(id=model.id, name=model.name, version=model.version))
            flavors.append(model.flavors)
        if request.entry_script is None or request.snapshot_digest is None:
            if len(served) != 1 or "python_function" not in flavors[0]:
                shown = ", ".join(f"{m.name}:{m.version}" for m in served)
                raise InvalidInput(
                    f"a deployment without an entry script serves exactly one MLflow-format model, not "
                    f"{shown}: give an entry script (with init() and run()) and its source snapshot"
                )
            return None, served
        script = normalize_artifact_path(request.entry_script)
        if not script.endswith(".py"):
            raise InvalidInput(f"entry_script {script!r} must be a Python file (.py) with init() and run()")
        with self.database.read() as conn:
            known = conn.execute(
                select(snapshots.c.digest).where(snapshots.c.digest == request.snapshot_digest)
            ).first()
        if known is None:
            raise InvalidInput(
                "the snapshot of the scoring code was not registered: upload it before deploying"
            )
        try:
            files = {f.path for f in snapshots_.load(self.blobs, request.snapshot_digest).files}
        except NotFound:
            raise InvalidInput("the snapshot of the scoring code is gone: upload it again") from None
        if script not in files:
            raise InvalidInput(
                f"entry script {script!r} is not in the snapshot of the source directory: give its path "
                "relative to that folder"
            )
        return script, served

    def deploy(self, endpoint: str, request: DeploymentCreate) -> DeploymentInfo:
        check_endpoint_name(endpoint)
        request = validated(DeploymentCreate, request)
        with self.database.read() as conn:
            endpoint_row(conn, endpoint)
        script, served = self._check_code(request)
        if request.collect_data and importlib.util.find_spec("pyarrow") is None:
            # The serving host (this installation) writes the collected requests as Parquet.
            raise InvalidInput("collect_data writes Parquet and needs pyarrow: pip install 'ember-ml[data]'")
        environment: EnvironmentRef | None = None
        if request.environment is not None:
            found = self.environments.get(request.environment.name, request.environment.version)
            environment = EnvironmentRef(name=found.name, version=found.version)
        interpreter = request.interpreter
        if interpreter is not None:
            # This control plane starts the serving host on its own machine: the replicas run here.
            check_interpreter(interpreter, where=f"the replicas of endpoint {endpoint!r}")
        now = time.time()
        spec: dict[str, Any] = {
            "description": request.description,
            "entry_script": script,
            "snapshot_digest": request.snapshot_digest if script is not None else None,
            "environment_name": environment.name if environment else None,
            "environment_version": environment.version if environment else None,
            "python_executable": interpreter.executable if interpreter else None,
            "python_machine": interpreter.machine if interpreter else None,
            "replicas": request.replicas,
            "autoscale": request.autoscale.model_dump_json() if request.autoscale else None,
            "collect_data": int(request.collect_data),
            "max_body_bytes": request.max_body_bytes,
            "desired_replicas": request.autoscale.min_replicas if request.autoscale else request.replicas,
            "updated_time": now,
        }
        try:
            with self.database.write() as conn:
                row = endpoint_row(conn, endpoint)
                existing = (
                    conn.execute(
                        select(deployments.c.id, deployments.c.generation).where(
                            and_(deployments.c.endpoint_id == row["id"], deployments.c.name == request.name)
                        )
                    )
                    .mappings()
                    .first()
                )
                if existing is not None:
                    deployment_id = existing["id"]
                    generation = existing["generation"] + 1
                    conn.execute(
                        sql_update(deployments)
                        .where(deployments.c.id == deployment_id)
                        .values(generation=generation, status="Updating", status_message="", **spec)
                    )
                    conn.execute(
                        delete(deployment_models).where(deployment_models.c.deployment_id == deployment_id)
                    )
                else:
                    deployment_id, generation = uuid.uuid4().hex, 1
                    conn.execute(
                        insert(deployments).values(
                            id=deployment_id,
                            endpoint_id=row["id"],
                            name=request.name,
                            generation=generation,
                            status="Creating",
                            status_message="",
                            ready_replicas=0,
                            restarts=0,
                            replica_states="[]",
                            created_time=now,
                            **spec,
                        )
                    )
                    self._add_to_traffic(conn, row, request.name)
                if served:
                    conn.execute(
                        insert(deployment_models),
                        [
                            {"deployment_id": deployment_id, "position": i, "model_id": m.id}
                            for i, m in enumerate(served)
                        ],
                    )
                bump_revision(conn)
                info = deployment_info(
                    conn.execute(select(deployments).where(deployments.c.id == deployment_id))
                    .mappings()
                    .one(),
                    endpoint,
                    served,
                )
        except IntegrityError:
            raise Conflict(
                f"deploying {request.name!r} to {endpoint!r} raced another change (a model version deleted, "
                "or the same deployment created at once): try again"
            ) from None
        logger.info("deployment %s/%s: generation %d", endpoint, request.name, generation)
        self.ensure_host()
        return info

    @staticmethod
    def _add_to_traffic(conn: Connection, row: RowMapping, deployment: str) -> None:
        """A new deployment takes all the traffic of an endpoint that had none, else none."""
        traffic: dict[str, int] = json.loads(row["traffic"])
        others = conn.execute(
            select(func.count())
            .select_from(deployments)
            .where(and_(deployments.c.endpoint_id == row["id"], deployments.c.name != deployment))
        ).scalar_one()
        traffic[deployment] = 100 if others == 0 and not any(traffic.values()) else 0
        conn.execute(
            sql_update(endpoints)
            .where(endpoints.c.id == row["id"])
            .values(traffic=json.dumps(traffic, sort_keys=True), updated_time=time.time())
        )

    def get_deployment(self, endpoint: str, name: str) -> DeploymentInfo:
        with self.database.read() as conn:
            row = endpoint_row(conn, endpoint)
            deployment_row(conn, row, name)
            found = deployments_of(conn, [row])[row["id"]]
        return next(d for d in found if d.name == name)

    def delete_deployment(self, endpoint: str, name: str) -> None:
        with self.database.write() as conn:
            row = endpoint_row(conn, endpoint)
            dep = deployment_row(conn, row, name)
            traffic: dict[str, int] = json.loads(row["traffic"])
            mirror: dict[str, int] = json.loads(row["mirror_traffic"])
            if traffic.get(name, 0) > 0 or mirror.get(name, 0) > 0:
                kind = "live" if traffic.get(name, 0) > 0 else "mirrored"
                share = traffic.get(name, 0) or mirror.get(name, 0)
                raise Conflict(
                    f"deployment {name!r} takes {share}% of endpoint {endpoint!r}'s {kind} traffic: set its "
                    "traffic to 0 first (update the endpoint), then delete it"
                )
            traffic.pop(name, None)
            mirror.pop(name, None)
            conn.execute(delete(deployments).where(deployments.c.id == dep["id"]))
            conn.execute(
                sql_update(endpoints)
                .where(endpoints.c.id == row["id"])
                .values(
                    traffic=json.dumps(traffic, sort_keys=True),
                    mirror_traffic=json.dumps(mirror, sort_keys=True),
                    updated_time=time.time(),
                )
            )
            revision = bump_revision(conn)
        logger.info("deleted deployment %s/%s", endpoint, name)
        lease.await_applied(self.database, revision)

    def get_logs(self, endpoint: str, deployment: str, *, tail: int = 200) -> DeploymentLogs:
        if isinstance(tail, bool) or not isinstance(tail, int) or not 1 <= tail <= MAX_TAIL:
            raise InvalidInput(f"tail is a number of lines from 1 to {MAX_TAIL}, not {str(tail)[:20]!r}")
        info = self.get_deployment(endpoint, deployment)
        folder = self.state_dir / "logs" / endpoint / deployment
        lines = [f"[host] {line}" for line in tail_lines(folder / _EVENTS_LOG, tail)]
        replica_ids = [r.id for r in info.replica_states if _SAFE_FILE_RE.match(r.id)]
        if not replica_ids:
            try:
                found = [p for p in folder.glob("*.log") if p.name != _EVENTS_LOG and p.is_file()]
                found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
            except OSError:
                found = []
            replica_ids = [p.name[: -len(".log")] for p in found[:_FALLBACK_REPLICA_LOGS]]
        for replica_id in replica_ids:
            lines.extend(f"[{replica_id}] {line}" for line in tail_lines(folder / f"{replica_id}.log", tail))
        return DeploymentLogs(endpoint=endpoint, deployment=deployment, lines=lines)

    # ---- talking to the serving host -------------------------------------------------------------------

    def get_telemetry(self, endpoint: str) -> EndpointTelemetry:
        info = self.get_endpoint(endpoint)
        with self.database.read() as conn:
            host = host_row(conn)
        if host is not None and alive(host["owner"], host["heartbeat_time"]):
            url = f"http://127.0.0.1:{host['port']}/-/telemetry/{endpoint}"
            try:
                with httpx.Client(trust_env=False, timeout=TELEMETRY_TIMEOUT_SECONDS) as client:
                    response = client.get(url)
                if response.status_code == 200:
                    return EndpointTelemetry.model_validate_json(response.content)
                logger.info("the serving host answered %d to a telemetry request", response.status_code)
            except (httpx.HTTPError, ValidationError) as exc:
                logger.info("no telemetry from the serving host: %s", type(exc).__name__)
        return EndpointTelemetry(
            endpoint=endpoint,
            time=time.time(),
            host_running=False,
            deployments=[
                DeploymentTelemetry(deployment=d.name, ready_replicas=d.ready_replicas)
                for d in info.deployments
            ],
        )

    def invoke(self, name: str, request: EndpointInvoke) -> EndpointInvokeResult:
        request = validated(EndpointInvoke, request)
        with self.database.read() as conn:
            row = endpoint_row(conn, name)
            host = host_row(conn)
        if host is None or not alive(host["owner"], host["heartbeat_time"]):
            self.ensure_host()
            raise Unavailable(self._not_running())
        if row["auth_mode"] == "key":
            credential = self._decrypt(row, "encrypted_keys")["primary_key"]
        else:
            secret = self._decrypt(row, "encrypted_token_secret")["token_secret"]
            credential = keys.make_token(secret, row["id"])[0]
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {credential}"}
        if request.deployment is not None:
            headers["X-Ember-Deployment"] = request.deployment
        if request.debug:
            headers["X-Ember-Debug"] = "true"
        url = f"http://127.0.0.1:{host['port']}/endpoints/{name}/score"
        started = time.perf_counter()
        try:
            with httpx.Client(trust_env=False, timeout=INVOKE_TIMEOUT_SECONDS) as client:
                response = client.post(url, content=request.body.encode("utf-8"), headers=headers)
        except httpx.ConnectError:
            raise Unavailable(self._not_running()) from None
        except httpx.TimeoutException:
            raise Unavailable(
                f"endpoint {name!r} did not answer within {INVOKE_TIMEOUT_SECONDS:.0f} s: see the "
                "deployment's logs"
            ) from None
        except httpx.HTTPError as exc:
            raise Unavailable(f"the request to endpoint {name!r} failed: {type(exc).__name__}") from None
        return EndpointInvokeResult(
            status_code=response.status_code,
            body=response.text,
            deployment=response.headers.get("X-Ember-Deployment"),
            latency_ms=(time.perf_counter() - started) * 1000.0,
            request_id=response.headers.get("X-Request-Id"),
        )

    def _not_running(self) -> str:
        return (
            "the serving host is not running: `ember server` (or any change to an endpoint) starts it; "
            f"its log is {self.state_dir / 'host.log'}"
        )

    def get_serving_host(self) -> ServingHostInfo:
        with self.database.read() as conn:
            host = host_row(conn)
        if host is None:
            return ServingHostInfo(url=serving_base(None))
        return ServingHostInfo(
            url=serving_base(host["port"]),
            pid=host["pid"] if host["owner"] else None,
            hostname=host["hostname"] if host["owner"] else None,
            started_time=host["started_time"] if host["owner"] else None,
            heartbeat_time=host["heartbeat_time"],
            alive=alive(host["owner"], host["heartbeat_time"]),
        )

    # ---- the serving host's side (not in the contract: ``python -m ember.hosting`` calls these) ---------

    def serving_revision(self) -> int:
        """The desired-state revision (0 before the first endpoint): the host polls it, cheaply."""
        return lease.revision(self.database)

    def desired_state(self) -> ServingState:
        """Every endpoint with what its router needs (key hashes, token secret, traffic), at one revision."""
        with self.database.read() as conn:
            host = host_row(conn)
            rows = list(conn.execute(select(endpoints).order_by(endpoints.c.name)).mappings().all())
            by_endpoint = deployments_of(conn, rows)
        routed = []
        for row in rows:
            token_auth = row["auth_mode"] == "token"
            routed.append(
                RoutedEndpoint(
                    id=row["id"],
                    name=row["name"],
                    auth_mode=row["auth_mode"],
                    key_hashes=[] if token_auth else [row["primary_key_hash"], row["secondary_key_hash"]],
                    token_secret=self._decrypt(row, "encrypted_token_secret")["token_secret"]
                    if token_auth
                    else "",
                    traffic=json.loads(row["traffic"]),
                    mirror_traffic=json.loads(row["mirror_traffic"]),
                    deployments=by_endpoint[row["id"]],
                )
            )
        return ServingState(
            revision=int(host["revision"]) if host is not None else 0,
            port=int(host["port"]) if host is not None else 0,
            endpoints=routed,
        )

    def claim_host(self, *, host_id: str, pid: int, hostname: str, stale_after: float = 5.0) -> int | None:
        """Take the serving lease (free, ours, or stale); the port to bind, or None if another host has it."""
        return lease.claim(
            self.database, host_id=host_id, pid=pid, hostname=hostname, stale_after=stale_after
        )

    def host_heartbeat(self, host_id: str, *, applied_revision: int) -> bool:
        """Record that the host is alive and has applied a revision; False when it lost the lease."""
        return lease.heartbeat(self.database, host_id, applied_revision=applied_revision)

    def release_host(self, host_id: str) -> None:
        """Give the lease up (a host that stops cleanly), so that the next one takes it at once."""
        lease.release(self.database, host_id)

    def report_deployment(
        self,
        endpoint: str,
        deployment: str,
        *,
        generation: int,
        status: str,
        message: str,
        desired: int,
        ready: int,
        restarts: int,
        replicas: builtins.list[ReplicaStatus],
    ) -> None:
        """Record a deployment's replicas as the host sees them (a stale generation updates only those)."""
        if status not in _STATUSES:
            raise InvalidInput(f"deployment status is one of {', '.join(sorted(_STATUSES))}, not {status!r}")
        states = json.dumps([r.model_dump(mode="json") for r in replicas])
        with self.database.write() as conn:
            row = conn.execute(
                select(deployments.c.id, deployments.c.generation)
                .join(endpoints, endpoints.c.id == deployments.c.endpoint_id)
                .where(and_(endpoints.c.name == endpoint, deployments.c.name == deployment))
            ).first()
            if row is None:
                return
            values: dict[str, Any] = {"replica_states": states, "ready_replicas": ready}
            if generation >= row[1]:
                values.update(
                    status=status,
                    status_message=message[:_MAX_STATUS_MESSAGE],
                    desired_replicas=desired,
                    restarts=restarts,
                )
            conn.execute(sql_update(deployments).where(deployments.c.id == row[0]).values(**values))

    def endpoint_count(self) -> int:
        """How many endpoints the workspace has (a host with none to serve may stop)."""
        with self.database.read() as conn:
            return int(conn.execute(select(func.count()).select_from(endpoints)).scalar_one())

    def ensure_host(self) -> None:
        """Start the serving host unless one is alive or was just started (or autostart is off)."""
        if self.autostart_host and lease.take_spawn_turn(self.database):
            lease.spawn(
                workspace_target=self.workspace_target,
                artifact_uri=self.artifact_uri,
                state_dir=self.state_dir,
            )
