"""``Dataset``: tabular and file datasets, lazy definitions over datastores, registered in versions.

A dataset object is a definition (sources, parse options, transformations) plus, once registered, the
version it is. Transformations return new, unregistered datasets that remember the registered version
they started from, so reading them still checks that version's fingerprint. Nothing is read until a
``to_*``, ``download`` or ``get_profile`` call.
"""

from __future__ import annotations

import builtins
import os
import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ember.data import lifecycle
from ember.data.datastore import DataPath, Datastore
from ember.data.lifecycle import DatasetDeprecatedWarning
from ember.entities.data import (
    DatasetDefinition,
    DatasetFile,
    DatasetLink,
    DatasetProfile,
    DatasetRegister,
    DatasetSource,
    DatasetVersionInfo,
    ParseOptions,
)
from ember.entities.validation import build
from ember.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import pandas
    import pyarrow

    from ember.backend import HasBackend
    from ember.data.files import ResolvedFile

__all__ = [
    "Dataset",
    "DatasetConsumptionConfig",
    "DatasetDeprecatedWarning",
    "FileDataset",
    "TabularDataset",
]

Source = DataPath | tuple[Datastore, str]


def _sources(path: Source | Sequence[Source]) -> tuple[HasBackend, builtins.list[DatasetSource]]:
    items: builtins.list[Source]
    if isinstance(path, DataPath) or (
        isinstance(path, tuple) and len(path) == 2 and isinstance(path[0], Datastore)
    ):
        items = [path]
    else:
        items = list(path)
    if not items:
        raise InvalidInput("a dataset needs at least one source: [(datastore, 'path/or/*.glob')]")
    workspace: HasBackend | None = None
    sources: builtins.list[DatasetSource] = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Datastore):
            item = DataPath(item[0], item[1])
        if not isinstance(item, DataPath):
            raise InvalidInput(
                f"a dataset source is (datastore, path) or datastore.path(...), not {type(item).__name__}"
            )
        if workspace is not None and item.datastore.workspace is not workspace:
            raise InvalidInput("every source of a dataset must come from one workspace")
        workspace = item.datastore.workspace
        sources.append(build(DatasetSource, datastore=item.datastore.name, path=item.path))
    assert workspace is not None
    return workspace, sources


class DatasetConsumptionConfig:
    """A dataset as a named input of a submitted run; in ``arguments`` it becomes the input's path.

    ``mode="direct"``: the script receives the dataset itself (``Run.input_datasets[name]``), and the
    argument is where its data lives. ``mode="download"``: the runner downloads the files first and the
    argument is the local folder.
    """

    def __init__(
        self,
        name: str,
        dataset: TabularDataset | FileDataset,
        *,
        mode: Literal["direct", "download"] = "direct",
        path_on_compute: str | None = None,
    ) -> None:
        if dataset.id is None:
            raise InvalidInput(
                f"input {name!r}: register the dataset first (dataset.register(ws, name)) so the run records "
                "exactly which version it consumed"
            )
        self.name = name
        self.dataset = dataset
        self.mode = mode
        self.path_on_compute = path_on_compute

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The same input, downloaded to the run's working folder before the script starts."""
        return DatasetConsumptionConfig(
            self.name, self.dataset, mode="download", path_on_compute=path_on_compute
        )

    def as_direct(self) -> DatasetConsumptionConfig:
        """The same input, read in place."""
        return DatasetConsumptionConfig(self.name, self.dataset, mode="direct")

    def to_input(self) -> dict[str, Any]:
        """The run configuration's form of this input."""
        return {
            "name": self.name,
            "dataset_id": self.dataset.id,
            "mode": self.mode,
            "path_on_compute": self.path_on_compute,
        }

    @property
    def placeholder(self) -> str:
        """What stands for the input in a run's arguments until the runner resolves it."""
        return f"${{{{inputs.{self.name}}}}}"

    def __str__(self) -> str:
        return self.placeholder

    def __repr__(self) -> str:
        return f"DatasetConsumptionConfig(name={self.name!r}, mode={self.mode!r}, dataset={self.dataset!r})"


class _Dataset:
    """What tabular and file datasets share: a definition, a workspace, maybe a registered version."""

    def __init__(
        self,
        workspace: HasBackend,
        definition: DatasetDefinition,
        *,
        info: DatasetVersionInfo | None = None,
        origin: DatasetVersionInfo | None = None,
    ) -> None:
        self.workspace = workspace
        self.definition = definition
        self._info = info
        self._origin = origin if origin is not None else info  # the registered version it started from

    # ---- identity -----------------------------------------------------------------------------------

    @property
    def name(self) -> str | None:
        """The registered name (None until registered)."""
        return None if self._info is None else self._info.name

    @property
    def version(self) -> int | None:
        """The registered version (None until registered)."""
        return None if self._info is None else self._info.version

    @property
    def id(self) -> str | None:
        """The registered version's id (None until registered)."""
        return None if self._info is None else self._info.id

    @property
    def description(self) -> str | None:
        """The registered version's description."""
        return None if self._info is None else self._info.description

    @property
    def tags(self) -> dict[str, str]:
        """The registered version's tags."""
        return {} if self._info is None else dict(self._info.tags)

    @property
    def info(self) -> DatasetVersionInfo | None:
        """The registered version as the workspace shows it."""
        return self._info

    @property
    def state(self) -> str | None:
        """``"active"``, ``"deprecated"`` or ``"archived"`` (None until registered), as last fetched."""
        return None if self._info is None else self._info.state

    @property
    def deprecated_by(self) -> str | None:
        """The id of the version that replaces this deprecated one (None unless deprecated)."""
        return None if self._info is None else self._info.deprecated_by

    @property
    def is_registered(self) -> bool:
        """Whether this is a registered version whose name was not unregistered since."""
        return self._info is not None and self._info.unregistered_time is None

    def __repr__(self) -> str:
        kind = type(self).__name__
        if self._info is not None:
            return f"{kind}(name={self.name!r}, version={self.version}, files={self._info.file_count})"
        shown = ", ".join(f"{s.datastore}:{s.path}" for s in self.definition.sources[:3])
        return f"{kind}(unregistered, sources=[{shown}], transforms={len(self.definition.transforms)})"

    def _derived(self, **changes: Any) -> Any:
        definition = DatasetDefinition.model_validate({**self.definition.model_dump(), **changes})
        return type(self)(self.workspace, definition, origin=self._origin)

    # ---- registration -------------------------------------------------------------------------------

    def register(
        self,
        workspace: HasBackend | None = None,
        name: str | None = None,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        create_new_version: bool = False,
        source_run: Any = None,
    ) -> Any:
        """Register this definition under ``name``; returns the registered version.

        The same definition over unchanged files answers the existing latest version. Registering from
        inside a submitted run records that run as the version's producer (lineage), as does
        ``source_run``.
        """
        ws = workspace or self.workspace
        if name is None:
            raise InvalidInput("register needs a name: dataset.register(ws, 'name')")
        run_id = getattr(source_run, "id", source_run)
        if run_id is None and os.environ.get("EMBER_RUN_ID") and os.environ.get("EMBER_WORKSPACE"):
            # Inside a submitted run: the run produced this version, when it belongs to this workspace.
            try:
                run_id = ws.backend.tracking.get_run(os.environ["EMBER_RUN_ID"]).info.id
            except (NotFound, InvalidInput):
                run_id = None
        request = build(
            DatasetRegister,
            name=name,
            definition=self.definition,
            description=description,
            tags=dict(tags or {}),
            create_new_version=create_new_version,
            source_run_id=run_id,
        )
        info = ws.backend.data.register_dataset(request)
        return type(self)(ws, info.definition, info=info)

    def add_tags(self, tags: Mapping[str, str]) -> None:
        """Add or change tags of the registered version."""
        info = self._registered("add tags")
        merged = {**info.tags, **dict(tags)}
        self._info = self.workspace.backend.data.update_dataset(info.id, tags=merged)

    # ---- lifecycle (Azure ML's deprecate / archive / reactivate / unregister_all_versions) -------------

    def deprecate(self, deprecate_by_dataset_id: str | _Dataset) -> None:
        """Deprecate this version in favour of another version (its id, or the dataset itself).

        A deprecated version still reads and can still be a run input, with a warning naming the
        replacement each time; archive it to block it, reactivate it to undo.
        """
        info = self._registered("deprecate it")
        replacement = deprecate_by_dataset_id
        if isinstance(replacement, _Dataset):
            replacement = replacement._registered("name it as a replacement").id
        self._info = self.workspace.backend.data.deprecate_dataset(info.id, deprecated_by=replacement)

    def archive(self) -> None:
        """Archive this version: hidden from lists and "latest"; reading it or running on it is refused
        until ``reactivate()``. ``Dataset.get_by_name`` with its number and ``get_by_id`` still find it."""
        info = self._registered("archive it")
        self._info = self.workspace.backend.data.archive_dataset(info.id)

    def reactivate(self) -> None:
        """Make this archived or deprecated version active again."""
        info = self._registered("reactivate it")
        self._info = self.workspace.backend.data.reactivate_dataset(info.id)

    def unregister_all_versions(self) -> None:
        """Unregister every version of this dataset's name from the workspace.

        The source data is untouched and the versions stay findable by id, so runs that consumed or
        produced them still show them; registering the name again continues its version numbers.
        """
        info = self._registered("unregister it")
        for version in self.workspace.backend.data.unregister_dataset(info.name):
            if version.id == info.id:
                self._info = version

    def get_runs(self) -> builtins.list[DatasetLink]:
        """The runs that consumed or produced this version (lineage), newest first."""
        info = self._registered("list its runs")
        return self.workspace.backend.data.get_dataset_runs(info.id)

    def _registered(self, what: str) -> DatasetVersionInfo:
        if self._info is None:
            raise InvalidInput(f"register the dataset before you {what}")
        return self._info

    def as_named_input(self, name: str) -> DatasetConsumptionConfig:
        """This dataset as the run input ``name`` (read in place; ``.as_download()`` copies it first)."""
        return DatasetConsumptionConfig(name, self)  # type: ignore[arg-type]

    # ---- reading ------------------------------------------------------------------------------------

    def _resolve(self, *, strict: bool = False) -> builtins.list[ResolvedFile]:
        from ember.data.files import check_fingerprint, resolve_files

        names = dict.fromkeys(s.datastore for s in self.definition.sources)
        accesses = {name: Datastore._shared(self.workspace, name)._get_access() for name in names}
        origin = self._origin
        if origin is not None:
            # The state as it is now (another user may have archived the version since it was fetched):
            # archived is refused, deprecated warns naming the replacement.
            lifecycle.warn(self.workspace.backend.data.get_dataset_by_id(origin.id), use="read")
        resolved = resolve_files(accesses, self.definition)
        if origin is not None:
            registered = self.workspace.backend.data.get_dataset_files(origin.id)
            check_fingerprint(
                registered,
                [r.file for r in resolved],
                strict=strict,
                what=f"dataset {origin.name!r} version {origin.version}",
            )
        return resolved

    def files(self, *, strict: bool = False) -> builtins.list[DatasetFile]:
        """The files the dataset reads now, with their size, time and ETag."""
        return [r.file for r in self._resolve(strict=strict)]

    def download(
        self,
        target_path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        show_progress: bool = True,
        strict: bool = False,
    ) -> builtins.list[str]:
        """Download the dataset's files into ``target_path`` (paths below each source's fixed part kept);
        returns the local paths."""
        from ember.data.transfer import download_files

        resolved = self._resolve(strict=strict)
        target = Path(target_path)
        by_fs: dict[int, tuple[Any, builtins.list[tuple[str, str, int]]]] = {}
        for item in resolved:
            relative = _relative_to_fixed(item.file.path, self.definition)
            by_fs.setdefault(id(item.fs), (item.fs, []))[1].append((item.full_path, relative, item.file.size))
        paths: builtins.list[str] = []
        for fs, triples in by_fs.values():
            download_files(fs, triples, target=target, overwrite=overwrite, show_progress=show_progress)
            paths.extend(str(target.joinpath(*rel.split("/"))) for _, rel, _ in triples)
        return sorted(paths)


def _relative_to_fixed(path: str, definition: DatasetDefinition) -> str:
    """``path`` relative to the fixed (glob-free) folder of the source it came from."""
    for source in definition.sources:
        fixed = []
        for part in source.path.split("/"):
            if any(ch in part for ch in "*?["):
                break
            fixed.append(part)
        base = "/".join(fixed)
        if base == path:  # a single-file source
            return posixpath.basename(path)
        if not base or path.startswith(base + "/"):
            return path[len(base) + 1 :] if base else path
    return path


class TabularDataset(_Dataset):
    """Rows and typed columns parsed from delimited, Parquet or JSON Lines files; lazy until read."""

    # ---- transformations (each returns a new, unregistered dataset) ----------------------------------

    def _with(self, transform: dict[str, Any]) -> TabularDataset:
        return self._derived(transforms=[*self.definition.model_dump()["transforms"], transform])  # type: ignore[no-any-return]

    def take(self, count: int) -> TabularDataset:
        """The first ``count`` rows."""
        return self._with({"op": "take", "count": count})

    def skip(self, count: int) -> TabularDataset:
        """Every row after the first ``count``."""
        return self._with({"op": "skip", "count": count})

    def keep_columns(self, columns: str | Sequence[str]) -> TabularDataset:
        """Only these columns, in this order."""
        return self._with(
            {"op": "keep_columns", "columns": [columns] if isinstance(columns, str) else list(columns)}
        )

    def drop_columns(self, columns: str | Sequence[str]) -> TabularDataset:
        """Every column but these."""
        return self._with(
            {"op": "drop_columns", "columns": [columns] if isinstance(columns, str) else list(columns)}
        )

    def filter(self, expression: str) -> TabularDataset:
        """Rows where ``expression`` holds, e.g. ``"sepal_length > 5 and species != 'setosa'"``."""
        return self._with({"op": "filter", "expression": expression})

    def take_sample(self, probability: float, seed: int = 0) -> TabularDataset:
        """Each row with probability ``probability`` (seeded, so repeatable)."""
        return self._with({"op": "take_sample", "probability": probability, "seed": seed})

    def random_split(self, percentage: float, seed: int = 0) -> tuple[TabularDataset, TabularDataset]:
        """Two datasets that partition the rows: about ``percentage`` of them, and the rest (seeded)."""
        left = self._with({"op": "random_split", "fraction": percentage, "seed": seed, "side": "left"})
        right = self._with({"op": "random_split", "fraction": percentage, "seed": seed, "side": "right"})
        return left, right

    def with_timestamp_columns(self, timestamp: str | None) -> TabularDataset:
        """The same rows, with ``timestamp`` as the time column (time-series datasets, drift monitors)."""
        return self._derived(timestamp_column=timestamp)  # type: ignore[no-any-return]

    @property
    def timestamp_column(self) -> str | None:
        """The time column, if one is set."""
        return self.definition.timestamp_column

    # ---- materialising ------------------------------------------------------------------------------

    def to_arrow(self, *, strict: bool = False) -> pyarrow.Table:
        """The rows as a pyarrow Table (read with pyarrow's multi-threaded readers)."""
        engine = _engine()
        return engine.read_table(self.definition, self._resolve(strict=strict))

    def to_pandas_dataframe(self, *, strict: bool = False) -> pandas.DataFrame:
        """The rows as a pandas DataFrame. ``strict=True`` fails when the data changed since registration."""
        engine = _engine()
        return engine.to_pandas(self.to_arrow(strict=strict))

    def to_polars(self, *, strict: bool = False) -> Any:
        """The rows as a polars DataFrame (needs polars installed)."""
        engine = _engine()
        return engine.to_polars(self.to_arrow(strict=strict))

    def head(self, count: int = 5) -> pandas.DataFrame:
        """The first ``count`` rows as a DataFrame, reading no more than needed."""
        return self.take(count).to_pandas_dataframe()

    def get_profile(self, *, refresh: bool = False) -> DatasetProfile:
        """Per-column statistics. A registered version's profile is computed once by the workspace and
        cached; an unregistered dataset is profiled here."""
        if self._info is not None:
            return self.workspace.backend.data.get_dataset_profile(self._info.id, refresh=refresh)
        from ember.data.profile import profile_table

        profile: DatasetProfile = profile_table(self.to_arrow())
        return profile


class FileDataset(_Dataset):
    """A set of files in datastores; download them or read them in place."""

    def to_path(self) -> builtins.list[str]:
        """The files' paths relative to the dataset (what ``download`` creates under its target)."""
        return sorted(_relative_to_fixed(f.path, self.definition) for f in self.files())

    def as_download(
        self, name: str | None = None, path_on_compute: str | None = None
    ) -> DatasetConsumptionConfig:
        """This dataset as a run input downloaded before the script starts."""
        return DatasetConsumptionConfig(
            name or self.name or "input", self, mode="download", path_on_compute=path_on_compute
        )


def _engine() -> Any:
    try:
        from ember.data import engine
    except ImportError as exc:
        raise InvalidInput(
            f"reading tabular data needs pyarrow and pandas ({exc.name} is missing): "
            "pip install 'ember-ml[data]'"
        ) from None
    return engine


class _TabularFactory:
    """``Dataset.Tabular.from_*``: tabular datasets from files in datastores."""

    @staticmethod
    def _make(path: Source | Sequence[Source], fmt: str, **parse: Any) -> TabularDataset:
        workspace, sources = _sources(path)
        parse_options = build(ParseOptions, **{k: v for k, v in parse.items() if v is not None})
        definition = build(
            DatasetDefinition, kind="tabular", sources=sources, format=fmt, parse=parse_options
        )
        return TabularDataset(workspace, definition)

    @classmethod
    def from_delimited_files(
        cls,
        path: Source | Sequence[Source],
        *,
        separator: str = ",",
        header: bool = True,
        encoding: str = "utf-8",
        quote_char: str | None = '"',
        skip_rows: int = 0,
        null_values: Sequence[str] | None = None,
        set_column_types: Mapping[str, str] | None = None,
        include_path: bool = False,
    ) -> TabularDataset:
        """CSV/TSV files (globs allowed), parsed with pyarrow; ``set_column_types`` maps columns to
        ``string``, ``int``, ``float``, ``bool``, ``datetime`` or ``date``."""
        return cls._make(
            path,
            "delimited",
            separator=separator,
            header=header,
            encoding=encoding,
            quote_char=quote_char,
            skip_rows=skip_rows,
            null_values=list(null_values) if null_values is not None else None,
            set_column_types=dict(set_column_types or {}),
            include_path=include_path,
        )

    @classmethod
    def from_parquet_files(
        cls,
        path: Source | Sequence[Source],
        *,
        set_column_types: Mapping[str, str] | None = None,
        include_path: bool = False,
    ) -> TabularDataset:
        """Parquet files (globs allowed)."""
        return cls._make(
            path, "parquet", set_column_types=dict(set_column_types or {}), include_path=include_path
        )

    @classmethod
    def from_json_lines_files(
        cls,
        path: Source | Sequence[Source],
        *,
        set_column_types: Mapping[str, str] | None = None,
        include_path: bool = False,
    ) -> TabularDataset:
        """JSON Lines files: one JSON object per line (globs allowed)."""
        return cls._make(
            path, "json_lines", set_column_types=dict(set_column_types or {}), include_path=include_path
        )


class _FileFactory:
    """``Dataset.File.from_files``: file datasets from paths and globs in datastores."""

    @staticmethod
    def from_files(path: Source | Sequence[Source]) -> FileDataset:
        """Files matching paths or globs (``images/**/*.png``) in datastores."""
        workspace, sources = _sources(path)
        return FileDataset(workspace, build(DatasetDefinition, kind="file", sources=sources))


class Dataset:
    """Registered datasets by name or id, and the factories ``Dataset.Tabular`` and ``Dataset.File``."""

    Tabular = _TabularFactory
    File = _FileFactory

    @staticmethod
    def _wrap(workspace: HasBackend, info: DatasetVersionInfo) -> TabularDataset | FileDataset:
        cls = TabularDataset if info.kind == "tabular" else FileDataset
        return cls(workspace, info.definition, info=info)

    @classmethod
    def get_by_name(
        cls, workspace: HasBackend, name: str, version: int | Literal["latest"] = "latest"
    ) -> TabularDataset | FileDataset:
        """A registered dataset; ``version="latest"`` (the default) or a version number."""
        number = None if version == "latest" else version
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
            raise InvalidInput(f"version is a positive integer or 'latest', not {version!r}")
        return cls._wrap(workspace, workspace.backend.data.get_dataset(name, number))

    @classmethod
    def get_by_id(cls, workspace: HasBackend, id: str) -> TabularDataset | FileDataset:
        """A registered dataset version by its id."""
        return cls._wrap(workspace, workspace.backend.data.get_dataset_by_id(id))

    @classmethod
    def get_all(
        cls, workspace: HasBackend, *, include_archived: bool = False
    ) -> dict[str, TabularDataset | FileDataset]:
        """The latest version of every registered dataset, by name (archived versions left out)."""
        found = workspace.backend.data.list_datasets(include_archived=include_archived)
        return {i.name: cls._wrap(workspace, i) for i in found}

    @classmethod
    def list_versions(
        cls, workspace: HasBackend, name: str, *, include_archived: bool = False
    ) -> builtins.list[TabularDataset | FileDataset]:
        """Every version of a dataset, newest first (archived versions left out)."""
        found = workspace.backend.data.list_datasets(name, include_archived=include_archived)
        return [cls._wrap(workspace, i) for i in found]
