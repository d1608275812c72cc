"""Reading tabular datasets into Arrow tables: parsing, column types, transformations and previews.

Files are parsed by pyarrow's multi-threaded readers (several files at once on a small thread pool)
and concatenated. Transformations run as a chain of stages that also work batch by batch, so a
preview (``limit``) or a small ``take`` streams the first files and stops as soon as it has its rows,
whatever the transformations before it. Every failure names the file, and the line or row where it
can be found.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from ember.data.cache import TableCache
from ember.data.files import ResolvedFile
from ember.data.filters import parse_filter
from ember.entities.data import DatasetDefinition, ParseOptions, Transform
from ember.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import pandas
    import polars

__all__ = ["ARROW_TYPES", "read_table", "to_pandas", "to_polars"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "datetime": pa.timestamp("us"),
    "date": pa.date32(),
}
PATH_COLUMN = "path"


def _memory_pool() -> pa.MemoryPool:
    """jemalloc when pyarrow has it: parsing a 1 GB CSV took 3.1-4.8 s with the default pool (mimalloc,
    mostly in the kernel) and 2.0 s with jemalloc on the 2-vCPU benchmark machine (docs/performance.md)."""
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:
        return pa.default_memory_pool()


MEMORY_POOL = _memory_pool()
_FULL_BLOCK = 16 << 20  # measured best on a 200 MB CSV: larger blocks gain nothing, 1-4 MB lose 20-40 %
_STREAM_BLOCK = 256 << 10  # a preview parses a quarter megabyte at a time
_MAX_BLOCK = 1 << 30
_STREAM_MAX_ROWS = 1_000_000  # a limit or take above this reads everything, multi-threaded, then slices
_FILE_THREADS = 4
_MAX_RETRIES = 64
_TEXT_SHOWN = 200

_CONVERSION_RE = re.compile(
    r"In CSV column #(\d+): (?:Row #(\d+): )?CSV conversion error to ([^:]+): (.*)", re.S
)
_ROW_RE = re.compile(r"Row #(\d+)")


# ---- retries and errors ---------------------------------------------------------------------------


class _Retry(Exception):
    """Read again: with a column's type changed for one file, with larger blocks, or multi-line values."""

    def __init__(
        self, *, path: str = "", column: str = "", type_: pa.DataType | None = None, what: str = "type"
    ) -> None:
        super().__init__(what)
        self.path, self.column, self.type_, self.what = path, column, type_, what


@dataclass
class _Settings:
    """What may change between attempts of one read: per-file column types, block size, quoting."""

    block_size: int
    overrides: dict[str, dict[str, pa.DataType]] = field(default_factory=dict)
    multiline: set[str] = field(default_factory=set)  # files whose quoted values hold line breaks

    def apply(self, retry: _Retry) -> None:
        if retry.what == "grow":
            if self.block_size >= _MAX_BLOCK:
                raise InvalidInput(
                    f"a row or JSON object is larger than {_MAX_BLOCK >> 20} MB; split the file"
                )
            self.block_size *= 8
        elif retry.what == "multiline":
            self.multiline.add(retry.path)
        else:
            assert retry.type_ is not None
            self.overrides.setdefault(retry.path, {})[retry.column] = retry.type_


def _shown(text: str) -> str:
    return repr(text if len(text) <= _TEXT_SHOWN else text[:_TEXT_SHOWN] + "…")


def _is_straddling(exc: BaseException) -> bool:
    return "straddl" in str(exc)


# ---- one file ---------------------------------------------------------------------------------------


@dataclass
class _FileReader:
    """Reads one file of a definition with the column types of one attempt."""

    rf: ResolvedFile
    definition: DatasetDefinition
    settings: _Settings
    path_label: str | None

    @property
    def name(self) -> str:
        return f"{self.rf.file.datastore}:{self.rf.file.path}"

    @property
    def parse(self) -> ParseOptions:
        return self.definition.parse

    @property
    def user_types(self) -> dict[str, pa.DataType]:
        return {c: ARROW_TYPES[t] for c, t in self.parse.set_column_types.items()}

    @property
    def csv_types(self) -> dict[str, pa.DataType]:
        return {**self.user_types, **self.settings.overrides.get(self.rf.full_path, {})}

    @contextlib.contextmanager
    def source(self) -> Iterator[Any]:
        try:
            if self.rf.is_local:
                yield self.rf.full_path  # pyarrow opens it natively: no Python in the read loop
            else:
                with self.rf.fs.open(self.rf.full_path, "rb") as fh:
                    yield fh
        except FileNotFoundError:
            raise NotFound(
                f"{self.name} no longer exists; it was listed when the dataset was resolved"
            ) from None

    # -- delimited text --

    def csv_options(
        self, *, use_threads: bool = True, block_size: int | None = None, typed: bool = True
    ) -> tuple[pacsv.ReadOptions, pacsv.ParseOptions, pacsv.ConvertOptions]:
        p = self.parse
        read = pacsv.ReadOptions(
            use_threads=use_threads,
            block_size=block_size or self.settings.block_size,
            skip_rows=p.skip_rows,
            autogenerate_column_names=not p.header,
            encoding="utf8" if p.encoding == "utf-8" else p.encoding,
        )
        parse = pacsv.ParseOptions(
            delimiter=p.separator,
            quote_char=p.quote_char if p.quote_char else False,
            # Line breaks inside quoted values cost 15 % of the speed: allowed only once a file needs it.
            newlines_in_values=self.rf.full_path in self.settings.multiline,
        )
        convert = pacsv.ConvertOptions(
            column_types=self.csv_types if typed else None,
            strings_can_be_null=True,  # an empty cell is missing, as in pandas
            **({"null_values": p.null_values} if p.null_values is not None else {}),
        )
        return read, parse, convert

    def csv_error(self, exc: pa.ArrowException) -> Exception:
        """The user-facing error (or a retry) for a failed CSV read."""
        message = str(exc)
        if _is_straddling(exc):
            return _Retry(what="grow")
        conversion = _CONVERSION_RE.search(message)
        if conversion:
            return self.conversion_error(conversion)
        if "Expected" in message and "columns" in message:
            if self.parse.quote_char and self.rf.full_path not in self.settings.multiline:
                return _Retry(path=self.rf.full_path, what="multiline")
            return self.row_error(message)
        if "Empty CSV file" in message:
            return InvalidInput(f"{self.name} is empty: a delimited file needs at least a header line")
        return InvalidInput(f"{self.name} cannot be read as delimited text: {message}")

    def column_names(self) -> list[str]:
        read, parse, _ = self.csv_options(use_threads=False, typed=False)
        with self.source() as src:
            return list(pacsv.open_csv(src, read_options=read, parse_options=parse).schema.names)

    def conversion_error(self, match: re.Match[str]) -> Exception:
        index, target, detail = int(match.group(1)), match.group(3), match.group(4).strip()
        names = self.column_names()
        column = names[index] if index < len(names) else f"#{index + 1}"
        user = self.parse.set_column_types.get(column)
        if user is None:  # the type was inferred from the first block and a later block disagrees
            wider = pa.float64() if target == "int64" and _is_number(detail) else pa.string()
            return _Retry(path=self.rf.full_path, column=column, type_=wider)
        if user == "datetime" and "expected no zone offset" in detail:
            return _Retry(path=self.rf.full_path, column=column, type_=pa.timestamp("us", "UTC"))
        row = match.group(2) or self.locate()[0]
        where = f"line {row}" if row else "a row"
        return InvalidInput(
            f"{self.name}, {where}, column {column!r}: cannot convert to {user} ({detail}); "
            f"fix the value or change set_column_types[{column!r}]"
        )

    def row_error(self, message: str) -> Exception:
        row, text, found = self.locate()
        if row is None:
            return InvalidInput(f"{self.name} has a malformed row: {message}")
        detail = found or message.split(":", 1)[-1].strip()
        shown = f": {_shown(text)}" if text is not None else ""
        return InvalidInput(f"{self.name}, line {row}: {detail}{shown}")

    def locate(self) -> tuple[int | None, str | None, str | None]:
        """Read the file again, serially, to find the line number of the first failing row."""
        found: list[Any] = []

        def handler(row: Any) -> str:
            found.append(row)
            return "error"

        read, parse, convert = self.csv_options(use_threads=False)
        parse.invalid_row_handler = handler
        try:
            with self.source() as src:
                for _ in pacsv.open_csv(src, read_options=read, parse_options=parse, convert_options=convert):
                    pass
        except pa.ArrowException as exc:
            if found and found[0].number > 0:
                row = found[0]
                detail = f"expected {row.expected_columns} fields, found {row.actual_columns}"
                return row.number, row.text, detail
            number = _ROW_RE.search(str(exc))
            return (int(number.group(1)) if number else None), None, None
        return None, None, None

    # -- reading --

    def read(self) -> pa.Table:
        fmt = self.definition.format
        try:
            with self.source() as src:
                if fmt == "delimited":
                    read, parse, convert = self.csv_options()
                    table = pacsv.read_csv(
                        src,
                        read_options=read,
                        parse_options=parse,
                        convert_options=convert,
                        memory_pool=MEMORY_POOL,
                    )
                elif fmt == "parquet":
                    table = pq.read_table(src, use_threads=True, memory_map=self.rf.is_local)
                else:
                    options = pajson.ReadOptions(use_threads=True, block_size=self.settings.block_size)
                    table = pajson.read_json(src, read_options=options, memory_pool=MEMORY_POOL)
        except pa.ArrowException as exc:
            raise self.error(exc) from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{self.name} is not {self.parse.encoding} text: {exc}") from None
        return self.finish(table, offset=0, first=True)

    def batches(self) -> Generator[pa.Table, None, None]:
        fmt = self.definition.format
        offset = 0
        try:
            with self.source() as src:
                batches: Iterator[pa.RecordBatch]
                if fmt == "delimited":
                    read, parse, convert = self.csv_options()
                    batches = iter(
                        pacsv.open_csv(src, read_options=read, parse_options=parse, convert_options=convert)
                    )
                elif fmt == "parquet":
                    batches = pq.ParquetFile(src, memory_map=self.rf.is_local).iter_batches(batch_size=65_536)
                else:
                    options = pajson.ReadOptions(use_threads=True, block_size=self.settings.block_size)
                    batches = iter(pajson.open_json(src, read_options=options))
                for batch in batches:
                    table = pa.Table.from_batches([batch])
                    yield self.finish(table, offset=offset, first=offset == 0)
                    offset += table.num_rows
        except pa.ArrowException as exc:
            raise self.error(exc) from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{self.name} is not {self.parse.encoding} text: {exc}") from None

    def error(self, exc: pa.ArrowException) -> Exception:
        if self.definition.format == "delimited":
            return self.csv_error(exc)
        if _is_straddling(exc):
            return _Retry(what="grow")
        kind = "Parquet" if self.definition.format == "parquet" else "JSON Lines"
        return InvalidInput(f"{self.name} cannot be read as {kind}: {exc}")

    def finish(self, table: pa.Table, *, offset: int, first: bool) -> pa.Table:
        """Check and apply column types, then add the path column."""
        types = self.user_types
        if first:
            missing = [c for c in types if c not in table.column_names]
            if missing:
                raise InvalidInput(
                    f"set_column_types names {', '.join(map(repr, missing))}, not a column of {self.name}; "
                    f"its columns: {', '.join(table.column_names)}"
                )
        if self.definition.format != "delimited":
            table = self.cast(table, types, offset)
        if self.path_label is not None:
            if PATH_COLUMN in table.column_names:
                raise InvalidInput(
                    f"include_path adds a {PATH_COLUMN!r} column, but {self.name} already has one; "
                    "rename it or turn include_path off"
                )
            indices = pa.array(np.zeros(table.num_rows, dtype=np.int32))
            table = table.append_column(
                PATH_COLUMN, pa.DictionaryArray.from_arrays(indices, pa.array([self.path_label]))
            )
        return table

    def cast(self, table: pa.Table, types: dict[str, pa.DataType], offset: int) -> pa.Table:
        for column, target in types.items():
            index = table.schema.get_field_index(column)
            current = table.schema.field(index).type
            if pa.types.is_timestamp(target) and pa.types.is_timestamp(current):
                target = pa.timestamp("us", current.tz)  # keep a zone the file states
            if current == target:
                continue
            values = table.column(index)
            try:
                converted = _cast(values, target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                row = _first_bad(values, target)
                value = values[row].as_py() if row is not None else None
                where = f"row {offset + row + 1}" if row is not None else "a row"
                kind = self.parse.set_column_types[column]
                shown = f" value {_shown(str(value))}" if row is not None else ""
                raise InvalidInput(
                    f"{self.name}, {where}, column {column!r}:{shown} cannot be converted to {kind} ({exc}); "
                    f"fix the value or change set_column_types[{column!r}]"
                ) from None
            table = table.set_column(index, column, converted)
        return table


def _cast(values: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    try:
        return pc.cast(values, target)
    except pa.ArrowInvalid as exc:
        if pa.types.is_timestamp(target) and target.tz is None and "zone" in str(exc):
            return pc.cast(values, pa.timestamp("us", "UTC"))
        raise


def _first_bad(values: pa.ChunkedArray, target: pa.DataType) -> int | None:
    """Index of the first value that does not cast, by halving: linear in the column's length."""
    array = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    start, stop = 0, len(array)
    while stop - start > 1:
        middle = (start + stop) // 2
        try:
            _cast(pa.chunked_array([array.slice(start, middle - start)]), target)
        except pa.ArrowException:
            stop = middle
        else:
            start = middle
    try:
        _cast(pa.chunked_array([array.slice(start, 1)]), target)
    except pa.ArrowException:
        return start
    return None


def _is_number(text: str) -> bool:
    match = re.search(r"'(.*)'", text)
    try:
        float(match.group(1) if match else text)
    except ValueError:
        return False
    return True


# ---- transformations ------------------------------------------------------------------------------


def _require_columns(table: pa.Table, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInput(
            f"{what} names {', '.join(map(repr, missing))}, not a column of the dataset; "
            f"columns: {', '.join(table.column_names)}"
        )


class _Stage:
    """One transformation, applied to consecutive chunks of the rows as they stream past."""

    exhausted = False

    def __call__(self, table: pa.Table) -> pa.Table:
        raise NotImplementedError


class _Take(_Stage):
    def __init__(self, count: int) -> None:
        self.left = count
        self.exhausted = count == 0

    def __call__(self, table: pa.Table) -> pa.Table:
        out = table.slice(0, self.left)
        self.left -= out.num_rows
        self.exhausted = self.left == 0
        return out


class _Skip(_Stage):
    def __init__(self, count: int) -> None:
        self.left = count

    def __call__(self, table: pa.Table) -> pa.Table:
        skipped = min(self.left, table.num_rows)
        self.left -= skipped
        return table.slice(skipped)


class _Columns(_Stage):
    def __init__(self, columns: list[str], *, keep: bool) -> None:
        self.columns, self.keep = list(dict.fromkeys(columns)), keep

    def __call__(self, table: pa.Table) -> pa.Table:
        _require_columns(table, self.columns, "keep_columns" if self.keep else "drop_columns")
        return table.select(self.columns) if self.keep else table.drop_columns(self.columns)


class _Filter(_Stage):
    def __init__(self, expression: str) -> None:
        self.text = expression
        self.compiled: tuple[pa.Schema, pc.Expression] | None = None
        parse_filter(expression)  # reject a bad expression before reading any file

    def __call__(self, table: pa.Table) -> pa.Table:
        if self.compiled is None or not self.compiled[0].equals(table.schema):
            self.compiled = (table.schema, parse_filter(self.text, table.schema))
        try:
            return table.filter(self.compiled[1])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            types = ", ".join(f"{f.name}: {f.type}" for f in table.schema)
            raise InvalidInput(
                f"filter {self.text!r} cannot be evaluated on the columns ({types}): {exc}"
            ) from None


class _Draw(_Stage):
    """Keeps row i when the i-th draw of a generator seeded with ``seed`` is below ``fraction``."""

    def __init__(self, fraction: float, seed: int, *, keep_below: bool) -> None:
        self.rng = np.random.default_rng(seed)
        self.fraction, self.keep_below = fraction, keep_below

    def __call__(self, table: pa.Table) -> pa.Table:
        below = self.rng.random(table.num_rows) < self.fraction  # one draw per row, in row order
        return table.filter(pa.array(below if self.keep_below else ~below))


def _stage(transform: Transform) -> _Stage:
    if transform.op == "take":
        return _Take(transform.count)
    if transform.op == "skip":
        return _Skip(transform.count)
    if transform.op == "keep_columns":
        return _Columns(transform.columns, keep=True)
    if transform.op == "drop_columns":
        return _Columns(transform.columns, keep=False)
    if transform.op == "filter":
        return _Filter(transform.expression)
    if transform.op == "random_split":
        return _Draw(transform.fraction, transform.seed, keep_below=transform.side == "left")
    return _Draw(transform.probability, transform.seed, keep_below=True)


class _Pipeline:
    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.stages = [_stage(t) for t in transforms]

    @property
    def exhausted(self) -> bool:
        """No further row can come out: a ``take`` has all its rows."""
        return any(s.exhausted for s in self.stages)

    def __call__(self, table: pa.Table) -> pa.Table:
        for stage in self.stages:
            table = stage(table)
        return table


# ---- whole reads ----------------------------------------------------------------------------------


def _path_labels(files: Sequence[ResolvedFile]) -> Callable[[ResolvedFile], str]:
    several = len({f.file.datastore for f in files}) > 1
    return lambda rf: f"{rf.file.datastore}:{rf.file.path}" if several else rf.file.path


def _concat(tables: list[pa.Table], files: Sequence[ResolvedFile]) -> pa.Table:
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        seen: dict[str, tuple[pa.DataType, str]] = {}
        for table, rf in zip(tables, files, strict=False):
            for f in table.schema:
                if pa.types.is_null(f.type):
                    continue
                first = seen.setdefault(f.name, (f.type, rf.file.path))
                if first[0] != f.type and not (_numeric(first[0]) and _numeric(f.type)):
                    raise InvalidInput(
                        f"column {f.name!r} is {first[0]} in {first[1]} but {f.type} in {rf.file.path}; "
                        f"give it one type with set_column_types"
                    ) from None
        raise InvalidInput(f"the dataset's files cannot be combined into one table: {exc}") from None


def _numeric(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def _read_one(reader: _FileReader) -> pa.Table:
    for _ in range(_MAX_RETRIES):
        try:
            return reader.read()
        except _Retry as retry:
            reader.settings.apply(retry)
    raise InvalidInput(f"{reader.name}: could not settle the column types; set them with set_column_types")


def _read_all(definition: DatasetDefinition, files: Sequence[ResolvedFile]) -> pa.Table:
    label = _path_labels(files)

    def one(rf: ResolvedFile) -> pa.Table:
        settings = _Settings(block_size=_FULL_BLOCK)
        path = label(rf) if definition.parse.include_path else None
        return _read_one(_FileReader(rf, definition, settings, path))

    if len(files) == 1:
        tables = [one(files[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(_FILE_THREADS, len(files))) as pool:
            tables = list(pool.map(one, files))
    return _concat(tables, files)


def _read_streaming(
    definition: DatasetDefinition, files: Sequence[ResolvedFile], *, limit: int | None, block_size: int
) -> pa.Table:
    """Stream files through the transformations until ``limit`` rows come out or a ``take`` is done."""
    label = _path_labels(files)
    settings = _Settings(block_size=block_size)
    for _ in range(_MAX_RETRIES):
        pipeline = _Pipeline(definition.transforms)
        out: list[pa.Table] = []
        used: list[ResolvedFile] = []
        rows = 0
        try:
            for rf in files:
                path = label(rf) if definition.parse.include_path else None
                with contextlib.closing(_FileReader(rf, definition, settings, path).batches()) as chunks:
                    for chunk in chunks:
                        result = pipeline(chunk)
                        if result.num_rows or not out:
                            out.append(result)
                            used.append(rf)
                        rows += result.num_rows
                        if pipeline.exhausted or (limit is not None and rows >= limit):
                            return _concat(out, used)
        except _Retry as retry:  # start over: the transformations keep state (counts, draws)
            settings.apply(retry)
            continue
        if not out:
            raise InvalidInput("the dataset's files hold no rows and no columns")
        return _concat(out, used)
    raise InvalidInput(
        "could not settle the column types of the dataset's files; set them with set_column_types"
    )


def _stream_bound(transforms: Sequence[Transform], limit: int | None) -> int | None:
    """How many rows the result can have at most, when small enough to stop reading early."""
    bounds = [t.count for t in transforms if t.op == "take"]
    if limit is not None:
        bounds.append(limit)
    bound = min(bounds, default=None)
    return bound if bound is not None and bound <= _STREAM_MAX_ROWS else None


def _timestamp_column(table: pa.Table, column: str) -> pa.Table:
    _require_columns(table, [column], "timestamp_column")
    index = table.schema.get_field_index(column)
    current = table.schema.field(index).type
    if pa.types.is_timestamp(current) or pa.types.is_date(current):
        return table
    if not (pa.types.is_string(current) or pa.types.is_large_string(current)):
        raise InvalidInput(
            f"timestamp_column {column!r} is {current}, not a date or time; "
            f"set_column_types[{column!r}] = 'datetime' if it holds timestamps"
        )
    try:
        converted = _cast(table.column(index), pa.timestamp("us"))
    except pa.ArrowException as exc:
        raise InvalidInput(
            f"timestamp_column {column!r} holds text that is not a timestamp ({exc}); "
            "use ISO 8601 values like 2024-05-01 12:00:00"
        ) from None
    return table.set_column(index, column, converted)


def read_table(
    definition: DatasetDefinition, files: Sequence[ResolvedFile], *, limit: int | None = None
) -> pa.Table:
    """Read a tabular dataset's files into one Arrow table, transformed as its definition says.

    Args:
        definition: A tabular definition: format, parse options and transformations.
        files: Its files, as ``resolve_files`` returns them, in order.
        limit: At most this many rows (after the transformations); a small limit reads only the first
            rows of the first files.

    Raises:
        InvalidInput: A file cannot be parsed (the message names the file and line), a value does not
            convert to its column type, or a transformation names a missing column.
    """
    if definition.kind != "tabular" or definition.format is None:
        raise InvalidInput("only a tabular dataset (with a format) reads into a table; list a file dataset")
    if limit is not None and limit < 0:
        raise InvalidInput(f"limit must be 0 or more, got {limit}")
    if not files:
        raise NotFound("the dataset has no files to read")
    bound = _stream_bound(definition.transforms, limit)
    if bound is not None:
        block = _STREAM_BLOCK if bound <= 10_000 else 4 << 20
        table = _read_streaming(definition, files, limit=limit, block_size=block)
    else:
        cache = TableCache.from_env()
        parse: Callable[[], pa.Table] = lambda: _read_all(definition, files)  # noqa: E731
        table = _Pipeline(definition.transforms)(cache.read(definition, files, parse) if cache else parse())
    if limit is not None and table.num_rows > limit:
        table = table.slice(0, limit)
    if definition.timestamp_column:
        table = _timestamp_column(table, definition.timestamp_column)
    return table


# ---- conversions ----------------------------------------------------------------------------------


def to_pandas(table: pa.Table) -> pandas.DataFrame:
    """A pandas DataFrame of the table: numbers without nulls and strings shared with Arrow, not copied.

    pandas 3 keeps strings in Arrow memory (its ``str`` dtype), so only numbers with nulls (to float
    with NaN), booleans and timestamps are converted.
    """
    try:
        import pandas  # noqa: F401 - tell the user what to install before pyarrow's own error
    except ImportError:
        raise InvalidInput("reading a dataset into pandas needs pandas: pip install pandas") from None
    return table.to_pandas(split_blocks=True, memory_pool=MEMORY_POOL)


def to_polars(table: pa.Table) -> polars.DataFrame:
    """A polars DataFrame of the table (zero-copy where the types allow)."""
    try:
        import polars as pl
    except ImportError:
        raise InvalidInput("reading a dataset into polars needs polars: pip install polars") from None
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    return frame
