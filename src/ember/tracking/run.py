"""The ``Experiment`` and ``Run`` SDK objects: a named group of runs; log to one run and read it back."""

from __future__ import annotations

import getpass
import logging
import math
import os
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from ember import links
from ember.artifacts import normalize_artifact_path, safe_local_files
from ember.artifacts.tree import write_tree
from ember.contracts.tracking import TrackingBackend
from ember.entities import (
    TERMINAL_STATUSES,
    ExperimentInfo,
    ExperimentUpdate,
    RunCreate,
    RunDetails,
    RunError,
    RunSearch,
    RunStatus,
    RunUpdate,
)
from ember.entities.tracking import check_key, check_step
from ember.entities.validation import build
from ember.errors import InvalidInput, NotFound
from ember.tracking.metric_buffer import MetricBuffer
from ember.tracking.spool import SpoolWriter

if TYPE_CHECKING:
    from ember.backend import HasBackend

__all__ = ["Experiment", "OfflineRun", "Run"]

logger = logging.getLogger(__name__)

CHUNK = 1 << 20
_CONTEXT: Run | None = None


def _read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


class Run:
    """One execution: its status, params, tags, properties, metrics and files.

    Get one from ``Experiment.start_logging()``, ``Run.get_context()`` inside a submitted script,
    ``Workspace.get_run(id)`` or ``Run(experiment, run_id)``.
    """

    def __init__(self, experiment: Experiment, run_id: str, *, _details: RunDetails | None = None) -> None:
        self.experiment = experiment
        self._backend: TrackingBackend = experiment.workspace.backend.tracking
        self._details = _details or self._backend.get_run(run_id)
        self._buffer: MetricBuffer | SpoolWriter | None = None
        self._valid_keys: set[str] = set()
        self._managed_by_runner = False  # Run.get_context() inside a submitted run
        self._spool: SpoolWriter | None = None

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def _create(
        cls,
        experiment: Experiment,
        *,
        display_name: str | None = None,
        parent_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> Run:
        request = build(
            RunCreate,
            experiment_id=experiment.id,
            display_name=display_name,
            description=description,
            parent_run_id=parent_run_id,
            status=RunStatus.RUNNING,
            user=_current_user(),
            tags=dict(tags or {}),
        )
        return cls(experiment, "", _details=experiment.workspace.backend.tracking.create_run(request))

    @classmethod
    def get(cls, workspace: HasBackend, run_id: str) -> Run:
        """The run with this id in the workspace."""

        details = workspace.backend.tracking.get_run(run_id)
        experiment = Experiment._from_info(
            workspace, workspace.backend.tracking.get_experiment(details.info.experiment_id)
        )
        return cls(experiment, run_id, _details=details)

    @classmethod
    def get_context(cls) -> Run | OfflineRun:
        """Inside a submitted run: that run. Anywhere else: an offline run that only logs to the console."""
        run_id = os.environ.get("EMBER_RUN_ID")
        if not run_id:
            return OfflineRun()
        global _CONTEXT
        if _CONTEXT is not None and _CONTEXT.id == run_id:
            return _CONTEXT
        workspace = links.get().open_workspace(
            os.environ["EMBER_WORKSPACE"], artifact_uri=os.environ.get("EMBER_ARTIFACT_URI")
        )
        run = cls.get(workspace, run_id)
        spool = os.environ.get("EMBER_SPOOL_DIR")
        if spool:
            # Inside a submitted run metrics go to the runner's spool: memory stores, no I/O per call,
            # and nothing is lost if the script is killed.
            run._buffer = run._spool = SpoolWriter(spool)
        run._managed_by_runner = True
        _CONTEXT = run
        return run

    # -- identity ----------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The run's id (32 hexadecimal characters)."""
        return self._details.info.id

    @property
    def display_name(self) -> str | None:
        """The run's human name."""
        return self._details.info.display_name

    @property
    def parent_id(self) -> str | None:
        """The parent run's id, for child runs."""
        return self._details.info.parent_run_id

    def __repr__(self) -> str:
        info = self._details.info
        return (
            f"Run(id={info.id!r}, experiment={self.experiment.name!r}, "
            f"name={info.display_name!r}, status={info.status.value!r})"
        )

    def _repr_html_(self) -> str:
        info = self._details.info
        return (
            "<table><tr><th>Experiment</th><th>Id</th><th>Name</th><th>Status</th></tr>"
            f"<tr><td>{_html(self.experiment.name)}</td><td>{info.id}</td>"
            f"<td>{_html(info.display_name or '')}</td>"
            f"<td>{info.status.value}</td></tr></table>"
        )

    # -- logging -----------------------------------------------------------------------------------
    def _check_metric_key(self, name: str) -> None:
        if name not in self._valid_keys:
            try:
                check_key(name, "metric name")
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
            self._valid_keys.add(name)

    def log(self, name: str, value: float, step: int | None = None, description: str = "") -> None:
        """Log one metric value; batched in the background, so it costs the loop next to nothing.

        ``step`` defaults to the step after this metric's previous point. NaN and +-inf are kept.
        """
        spool = self._spool
        if spool is not None:  # inside a submitted run: the spool validates, once, in its own hot path
            spool.add(name, value, step)
            return
        if name not in self._valid_keys:
            self._check_metric_key(name)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"metric {name!r} must be a number, got {type(value).__name__}") from None
        if step is not None:
            try:
                check_step(name, step)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = MetricBuffer(self._backend, self.id)
        buffer.add(name, number, step)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log several metrics at the same step."""
        for name, value in metrics.items():
            self.log(name, value, step=step)

    def log_list(self, name: str, values: list[float], description: str = "") -> None:
        """Log a list of values as consecutive points of one series."""
        for value in values:
            self.log(name, value)

    def log_row(self, name: str, description: str = "", **columns: Any) -> None:
        """Append one row to a table metric: ``run.log_row("per_class", cls="a", f1=0.9)``."""
        self._backend.log_table_rows(self.id, name, [columns])

    def log_table(self, name: str, value: Mapping[str, list[Any]], description: str = "") -> None:
        """Append a table given as columns of equal length: ``{"pred": [0, 1], "count": [10, 3]}``."""
        lengths = {len(col) for col in value.values()}
        if len(lengths) > 1:
            raise InvalidInput(f"table {name!r}: columns must have the same length, got {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        rows = [{col: cells[i] for col, cells in value.items()} for i in range(n)]
        self._backend.log_table_rows(self.id, name, rows)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record params (write-once); values are stored as text and compared as numbers when numeric."""
        self._backend.log_params(self.id, {k: _param_text(v) for k, v in params.items()})

    def log_param(self, name: str, value: Any) -> None:
        """Record one param."""
        self.log_params({name: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set or overwrite tags."""
        self._backend.set_tags(self.id, {k: str(v) for k, v in tags.items()})

    def set_tag(self, key: str, value: Any) -> None:
        """Set one tag."""
        self.set_tags({key: value})

    def remove_tag(self, key: str) -> None:
        """Remove a tag."""
        self._backend.delete_tag(self.id, key)

    def add_properties(self, properties: Mapping[str, Any]) -> None:
        """Record write-once properties."""
        self._backend.add_properties(self.id, {k: str(v) for k, v in properties.items()})

    def flush(self) -> None:
        """Make every metric logged so far durable."""
        if self._buffer is not None:
            self._buffer.flush()

    # -- files -------------------------------------------------------------------------------------
    def upload_file(self, name: str, path_or_stream: str | os.PathLike[str] | BinaryIO) -> str:
        """Store a local file (or a binary stream) under ``name`` in the run; returns the stored path."""
        if isinstance(path_or_stream, str | os.PathLike):
            with open(path_or_stream, "rb") as stream:
                info = self._backend.upload_artifact(self.id, name, _read_chunks(stream))
        else:
            info = self._backend.upload_artifact(self.id, name, _read_chunks(path_or_stream))
        return info.path

    def upload_folder(self, name: str, path: str | os.PathLike[str]) -> list[str]:
        """Store every file of a local folder under the prefix ``name``; symlinks leaving it are refused."""
        prefix = normalize_artifact_path(name, allow_dir=True)
        files = list(safe_local_files(path))
        return [self.upload_file(f"{prefix}/{rel}" if prefix else rel, abs_path) for rel, abs_path in files]

    def get_file_names(self, prefix: str = "") -> list[str]:
        """Paths of the run's files (under ``prefix``)."""
        return [a.path for a in self._backend.list_artifacts(self.id, prefix)]

    def download_file(self, name: str, output_file_path: str | os.PathLike[str] | None = None) -> Path:
        """Stream one of the run's files to a local path (default: its base name in the cwd)."""
        _, chunks = self._backend.open_artifact(self.id, name)
        dest = Path(output_file_path) if output_file_path is not None else Path(Path(name).name)
        if dest.is_dir():
            dest = dest / Path(name).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        try:
            with open(part, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)
        return dest

    def download_files(self, prefix: str = "", output_directory: str | os.PathLike[str] = ".") -> list[Path]:
        """Download every file under ``prefix`` into ``output_directory``, keeping relative paths."""
        root = Path(output_directory).resolve()
        out = []
        for name in self.get_file_names(prefix):
            dest = (root / name).resolve()
            if not dest.is_relative_to(root):  # paths are normalised server-side; this is belt and braces
                raise InvalidInput(f"refusing to write {name!r} outside {root}")
            out.append(self.download_file(name, dest))
        return out

    # -- the snapshot of a submitted run -------------------------------------------------------------
    def get_snapshot_files(self) -> list[dict[str, Any]]:
        """The source files the run was submitted with: path, size, digest and executable flag each.

        Raises ``NotFound`` for a run that was not submitted from a source folder.
        """
        snapshot = self.experiment.workspace.backend.jobs.get_run_snapshot(self.id)
        return [file.model_dump() for file in snapshot.files]

    def download_snapshot(self, output_directory: str | os.PathLike[str]) -> Path:
        """Write the run's source files into ``output_directory`` (empty or missing), as submitted.

        Every file's bytes are checked against its digest; nothing is written outside the folder.
        """
        jobs = self.experiment.workspace.backend.jobs
        files = jobs.get_run_snapshot(self.id).files
        root = write_tree(
            files, output_directory, open_file=lambda file: jobs.open_snapshot_file(self.id, file.path)[1]
        )
        return Path(root)

    # -- datasets (lineage) ------------------------------------------------------------------------
    def _datasets(self, direction: str) -> dict[str, Any]:
        workspace = self.experiment.workspace
        sdk = links.get()  # Dataset objects belong to the data feature, above tracking
        return {
            link.name: sdk.dataset(workspace, link.dataset_id)
            for link in workspace.backend.data.get_run_datasets(self.id)
            if link.direction == direction
        }

    @property
    def input_datasets(self) -> dict[str, Any]:
        """The dataset versions the run consumed, by input name (as registered datasets)."""
        return self._datasets("input")

    @property
    def output_datasets(self) -> dict[str, Any]:
        """The dataset versions the run produced, by output name."""
        return self._datasets("output")

    # -- models --------------------------------------------------------------------------------------
    def register_model(self, model_name: str, model_path: str, **fields: Any) -> Any:
        """Register this run's stored file or folder (e.g. ``outputs/model.pkl``) as the next version of
        ``model_name``, with the run (and its experiment) as lineage; no bytes are copied. ``fields``:
        tags, properties, description, datasets, framework, framework_version."""
        return links.get().register_model_from_run(
            self.experiment.workspace, self.id, model_name, model_path, **fields
        )

    # -- reading -----------------------------------------------------------------------------------
    def get_details(self) -> dict[str, Any]:
        """Everything known about the run, as plain data."""
        self._details = self._backend.get_run(self.id)
        return self._details.model_dump(mode="json")

    def get_status(self) -> str:
        """The run's current status, e.g. ``"Running"`` or ``"Completed"``."""
        self._details = self._backend.get_run(self.id)
        return self._details.info.status.value

    def get_metrics(self, name: str | None = None) -> dict[str, Any]:
        """Metric values by name: a list per series, a dict of columns per table."""
        self.flush()
        metrics = self._backend.get_metrics(self.id)
        out: dict[str, Any] = {k: list(h.values) for k, h in metrics.series.items()}
        out.update(metrics.tables)
        return out if name is None else {name: out[name]} if name in out else {}

    def get_metric_history(self, name: str) -> list[dict[str, float]]:
        """Every point of one series: ``[{"step": 0, "value": 1.0, "timestamp": ...}, ...]``."""
        self.flush()
        history = self._backend.get_metric_history(self.id, name)
        return [
            {"step": s, "value": v, "timestamp": t}
            for s, v, t in zip(history.steps, history.values, history.timestamps, strict=True)
        ]

    def get_params(self) -> dict[str, str]:
        """The run's params."""
        return self._backend.get_run(self.id).params

    def get_tags(self) -> dict[str, str]:
        """The run's tags."""
        return self._backend.get_run(self.id).tags

    def get_properties(self) -> dict[str, str]:
        """The run's properties."""
        return self._backend.get_run(self.id).properties

    # -- children ----------------------------------------------------------------------------------
    def child_run(self, name: str | None = None, *, tags: Mapping[str, str] | None = None) -> Run:
        """Start a child run in the same experiment."""
        return Run._create(self.experiment, display_name=name, parent_run_id=self.id, tags=tags)

    def get_children(self) -> list[Run]:
        """The run's direct children, oldest first."""
        out: list[Run] = []
        token: str | None = None
        while True:
            page = self._backend.search_runs(
                RunSearch(
                    experiment_ids=[self.experiment.id],
                    parent_run_id=self.id,
                    order_by=["attributes.created_time ASC"],
                    max_results=1000,
                    page_token=token,
                )
            )
            out.extend(Run(self.experiment, d.info.id, _details=d) for d in page.runs)
            token = page.next_page_token
            if token is None:
                return out

    # -- status ------------------------------------------------------------------------------------
    def _finish(self, status: RunStatus, error: RunError | None = None) -> None:
        if self._managed_by_runner:  # the runner records how the script ended
            self.flush()
            return
        try:
            if self._buffer is not None:
                self._buffer.close()
        finally:
            info = self._backend.update_run(self.id, RunUpdate(status=status, error=error))
            self._details = self._details.model_copy(update={"info": info})

    def complete(self) -> None:
        """Flush everything and mark the run Completed."""
        self._finish(RunStatus.COMPLETED)

    def fail(self, error_details: str | BaseException | None = None) -> None:
        """Flush everything and mark the run Failed, recording why."""
        if isinstance(error_details, BaseException):
            message = f"{type(error_details).__name__}: {error_details}"
            tb = "".join(traceback.format_exception(error_details))
        else:
            message, tb = (error_details or "failed"), None
        self._finish(
            RunStatus.FAILED, RunError(message=message[:20000], traceback=tb[-200_000:] if tb else None)
        )

    def cancel(self) -> None:
        """Cancel the run: at once when queued or interactive; a running script is stopped by its runner."""
        if self._buffer is not None:
            self._buffer.close()
        info = self.experiment.workspace.backend.jobs.cancel_run(self.id)
        self._details = self._details.model_copy(update={"info": info})

    def wait_for_completion(
        self, show_output: bool = False, *, timeout: float | None = None, poll_interval: float = 0.5
    ) -> dict[str, Any]:
        """Wait until the run ends (streaming its output live with ``show_output``); returns its details.

        Raises ``TimeoutError`` after ``timeout`` seconds; the run goes on.
        """
        jobs = self.experiment.workspace.backend.jobs
        deadline = None if timeout is None else time.monotonic() + timeout
        offset = 0
        last_sweep = time.monotonic()
        while True:
            if show_output:
                try:
                    chunk = jobs.read_log(self.id, "std_log.txt", offset=offset)
                except NotFound:
                    chunk = None
                if chunk is not None:
                    if chunk.data:
                        sys.stdout.write(chunk.data)
                        sys.stdout.flush()
                    offset = chunk.next_offset
            status = RunStatus(self.get_status())
            if status in TERMINAL_STATUSES:
                while show_output:  # the rest, written before the status changed
                    chunk = jobs.read_log(self.id, "std_log.txt", offset=offset)
                    if not chunk.data:
                        break
                    sys.stdout.write(chunk.data)
                    sys.stdout.flush()
                    offset = chunk.next_offset
                return self.get_details()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {self.id} is still {status.value} after {timeout} s")
            if (
                time.monotonic() - last_sweep > 10
            ):  # embedded workspaces have no server to notice dead runners
                jobs.sweep()
                last_sweep = time.monotonic()
            time.sleep(poll_interval)

    def delete(self) -> None:
        """Soft-delete the run and its children; ``restore`` undoes it, ``Workspace.gc`` makes it final."""
        info = self._backend.set_run_lifecycle(self.id, "deleted")
        self._details = self._details.model_copy(update={"info": info})

    def restore(self) -> None:
        """Undo ``delete``."""
        info = self._backend.set_run_lifecycle(self.id, "active")
        self._details = self._details.model_copy(update={"info": info})

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._details.info.status in TERMINAL_STATUSES:
            return
        if exc is None:
            self.complete()
        elif isinstance(exc, KeyboardInterrupt):
            self.cancel()
        else:
            self.fail(exc)


class Experiment:
    """A named group of runs; ``Experiment(ws, "iris")`` gets it, creating it when missing."""

    def __init__(self, workspace: HasBackend, name: str, *, _info: ExperimentInfo | None = None) -> None:
        self.workspace = workspace
        self._info = _info or workspace.backend.tracking.get_or_create_experiment(name)

    @classmethod
    def _from_info(cls, workspace: HasBackend, info: ExperimentInfo) -> Experiment:
        return cls(workspace, info.name, _info=info)

    @property
    def id(self) -> str:
        """The experiment's id."""
        return self._info.id

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self._info.name

    @property
    def archived(self) -> bool:
        """Whether the experiment is archived."""
        return self._info.lifecycle_stage == "archived"

    @property
    def info(self) -> ExperimentInfo:
        """The experiment's attributes as last read."""
        return self._info

    def refresh(self) -> Experiment:
        """Re-read the experiment's attributes."""
        self._info = self.workspace.backend.tracking.get_experiment(self.id)
        return self

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, id={self.id!r}, runs={self._info.run_count})"

    def start_logging(
        self,
        display_name: str | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> Run:
        """Start an interactive run; as a context manager it completes (or fails) on exit."""
        return Run._create(self, display_name=display_name, tags=tags, description=description)

    def submit(self, config: Any, tags: Mapping[str, str] | None = None, **kwargs: Any) -> Run:
        """Submit a run configuration (``ScriptRunConfig``, an estimator…) as a new run of this experiment."""
        submit_to = getattr(config, "submit_to", None)
        if submit_to is None:
            raise TypeError(f"{type(config).__name__} cannot be submitted: use ember.ScriptRunConfig")
        run: Run = submit_to(self, tags=tags, **kwargs)
        return run

    def get_runs(self, *, include_children: bool = False) -> Iterator[Run]:
        """The experiment's runs, newest first (top-level only unless ``include_children``)."""
        token: str | None = None
        filter_ = None
        while True:
            page = self.workspace.backend.tracking.search_runs(
                RunSearch(experiment_ids=[self.id], filter=filter_, max_results=1000, page_token=token)
            )
            for details in page.runs:
                if include_children or details.info.parent_run_id is None:
                    yield Run(self, details.info.id, _details=details)
            token = page.next_page_token
            if token is None:
                return

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set tags on the experiment."""
        self._info = self.workspace.backend.tracking.update_experiment(
            self.id, ExperimentUpdate(tags=dict(tags))
        )

    def archive(self) -> None:
        """Hide the experiment from lists; its runs stay."""
        self._info = self.workspace.backend.tracking.set_experiment_lifecycle(self.id, "archived")

    def reactivate(self) -> None:
        """Undo ``archive`` or ``delete``."""
        self._info = self.workspace.backend.tracking.set_experiment_lifecycle(self.id, "active")

    restore = reactivate

    def delete(self) -> None:
        """Soft-delete the experiment; ``ember gc`` removes it for good."""
        self._info = self.workspace.backend.tracking.set_experiment_lifecycle(self.id, "deleted")


class OfflineRun:
    """What ``Run.get_context()`` returns outside a submitted run: logs go to the console only."""

    id = "offline"

    def __init__(self) -> None:
        self._log = logging.getLogger("ember.offline")
        if not self._log.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("[ember offline run] %(message)s"))
            self._log.addHandler(handler)
            self._log.setLevel(logging.INFO)
            self._log.propagate = False

    def log(self, name: str, value: float, step: int | None = None, description: str = "") -> None:
        """Print a metric value."""
        self._log.info("%s = %s%s", name, value, "" if step is None else f" (step {step})")

    def __getattr__(self, name: str) -> Any:
        def _record(*args: Any, **kwargs: Any) -> None:
            self._log.info("%s %s %s", name, args, kwargs or "")

        return _record

    def __enter__(self) -> OfflineRun:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _param_text(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value if isinstance(value, str) else str(value)


def _current_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return None


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
