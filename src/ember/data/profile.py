"""Profiles of tabular datasets: per-column counts, missing values, distributions and frequent values.

Columns are profiled in parallel; each is a few vectorised passes (Arrow for counting and hashing,
numpy for moments, exact quantiles and histograms), so ten million rows take a few seconds. Every
number is a plain ``int``/``float``/``str`` (NaN and infinities become ``None``), ready for JSON.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ember.entities.data import ColumnProfile, DatasetProfile
from ember.errors import InvalidInput

__all__ = [
    "QUANTILES",
    "column_type_name",
    "profile_table",
]

QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_EXACT_DISTINCT_ROWS = 1_000_000  # above this, distinct counts of numbers are estimated
_HLL_BITS = 14
_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def _number(value: Any) -> float | None:
    """A finite Python float, or ``None`` for null, NaN and infinities."""
    if value is None:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def column_type_name(t: pa.DataType) -> str:
    """The user's vocabulary for an Arrow type: int, float, string, bool, datetime, date, or Arrow's name."""
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_timestamp(t):
        return "datetime" if t.tz is None else f"datetime ({t.tz})"
    if pa.types.is_date(t):
        return "date"
    return str(t)


def _histogram(values: np.ndarray[Any, Any], bins: int) -> list[tuple[float, float, int]]:
    """(low, high, count) bins of equal width over the finite values' range."""
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    if finite.size == 0:
        return []
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        return [(low, high, int(finite.size))]
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    return [(float(edges[i]), float(edges[i + 1]), int(c)) for i, c in enumerate(counts)]


def _distinct(column: pa.ChunkedArray) -> int | None:
    try:
        return int(pc.count_distinct(column, mode="only_valid").as_py())
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def _approx_distinct(values: np.ndarray[Any, Any]) -> int:
    """HyperLogLog estimate of the distinct values of a numeric array (about 1 % error).

    An exact count hashes every value into a table as large as the column, which takes seconds at ten
    million distinct values; this is a dozen vectorised passes done in place, ten times faster.
    """
    if values.dtype.itemsize == 8:
        z = np.array(values, copy=True).view(np.uint64)
    else:
        z = values.astype(np.int64).view(np.uint64)
    tmp = np.empty_like(z)
    with np.errstate(over="ignore"):  # splitmix64's finaliser as the hash: multiplication wraps by design
        for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, 0)):
            np.right_shift(z, np.uint64(shift), out=tmp)
            np.bitwise_xor(z, tmp, out=z)
            if factor:
                np.multiply(z, np.uint64(factor), out=z)
    width = 64 - _HLL_BITS
    key = np.right_shift(z, np.uint64(width), out=tmp).view(np.int64)  # the register: the top bits
    np.bitwise_and(z, np.uint64((1 << width) - 1), out=z)
    # rank = leading zeros of the remaining bits + 1, read off the float exponent of (bits + 0.5)
    exponent = z.view(np.int64).astype(np.float64)
    exponent += 0.5
    rank = np.right_shift(exponent.view(np.uint64), np.uint64(52)).view(np.int64)
    key *= width + 2
    key += width + 1023
    key -= rank
    seen = np.zeros((1 << _HLL_BITS) * (width + 2), dtype=bool)
    seen[key] = True
    table = seen.reshape(1 << _HLL_BITS, width + 2)
    highest = (width + 1) - np.argmax(table[:, ::-1], axis=1)
    highest[~table.any(axis=1)] = 0
    registers = 1 << _HLL_BITS
    alpha = 0.7213 / (1 + 1.079 / registers)
    estimate = alpha * registers**2 / float(np.sum(np.ldexp(1.0, -highest)))
    empty = int(np.count_nonzero(highest == 0))
    if estimate <= 2.5 * registers and empty:
        estimate = registers * math.log(registers / empty)  # linear counting for few distinct values
    return min(round(estimate), int(values.size))


def _unique(column: pa.ChunkedArray, values: np.ndarray[Any, Any]) -> int | None:
    """Distinct non-missing values: exact on small columns, estimated on large ones."""
    if values.size > _EXACT_DISTINCT_ROWS:
        return _approx_distinct(values)
    return _distinct(column)


def _numeric(profile: ColumnProfile, column: pa.ChunkedArray, bins: int) -> None:
    values = pc.drop_null(column).to_numpy()
    if pa.types.is_decimal(column.type) or pa.types.is_floating(column.type):
        values = np.asarray(values, dtype=np.float64)
        nan = np.isnan(values)
        if nan.any():  # NaN is missing, as in pandas
            values = values[~nan]
            profile.missing += int(nan.sum())
            profile.count -= int(nan.sum())
            column = pa.chunked_array([values], type=pa.float64())
    profile.unique = _unique(column, values)
    if values.size == 0:
        return
    if pa.types.is_integer(column.type):
        bounds = pc.min_max(column)
        profile.min, profile.max = bounds["min"].as_py(), bounds["max"].as_py()  # exact, even past 2**53
        values = values.astype(np.float64)
    else:
        profile.min, profile.max = _number(values.min()), _number(values.max())
    with np.errstate(invalid="ignore", over="ignore"):  # infinities make NaN moments, reported as None
        profile.mean = _number(values.mean())
        profile.std = _number(values.std(ddof=1)) if values.size > 1 else None
        quantiles = [_number(v) for v in np.quantile(values, QUANTILES)]
    profile.quantiles = {str(q): v for q, v in zip(QUANTILES, quantiles, strict=True) if v is not None}
    profile.histogram = _histogram(values, bins)


def _temporal(profile: ColumnProfile, column: pa.ChunkedArray, bins: int) -> None:
    if column.null_count == len(column):
        profile.unique = 0
        return
    bounds = pc.min_max(column)
    for key in ("min", "max"):
        scalar = bounds[key]
        if pa.types.is_timestamp(column.type) and column.type.unit == "ns":
            scalar = scalar.cast(pa.timestamp("us", column.type.tz), safe=False)
        value: datetime | date = scalar.as_py()
        setattr(profile, key, value.isoformat())
    if pa.types.is_timestamp(column.type):
        raw = pc.drop_null(column).cast(pa.int64()).to_numpy()
        seconds = raw.astype(np.float64) * _SECONDS[column.type.unit]
    else:
        raw = pc.drop_null(column).cast(pa.date32()).cast(pa.int32()).to_numpy()
        seconds = raw.astype(np.float64) * 86_400.0
    profile.unique = _unique(column, raw)
    profile.histogram = _histogram(seconds, bins)  # bins over seconds since 1970-01-01 (UTC)


def _categorical(profile: ColumnProfile, column: pa.ChunkedArray, top: int) -> None:
    counts = pc.value_counts(column)  # one hash pass gives distinct count and frequencies
    values, frequencies = counts.field("values"), counts.field("counts")
    if values.null_count:
        valid = pc.is_valid(values)
        values, frequencies = values.filter(valid), frequencies.filter(valid)
    profile.unique = len(values)
    if len(values) == 0:
        return
    if len(values) > top:
        chosen = pc.select_k_unstable(frequencies, k=top, sort_keys=[("dummy", "descending")])
        values, frequencies = values.take(chosen), frequencies.take(chosen)
    pairs = [(v, int(c)) for v, c in zip(values.to_pylist(), frequencies.to_pylist(), strict=True)]
    pairs.sort(key=lambda p: (-p[1], str(p[0])))
    profile.top_values = pairs
    if not pa.types.is_boolean(column.type):
        bounds = pc.min_max(column)
        profile.min, profile.max = bounds["min"].as_py(), bounds["max"].as_py()


def _profile_column(name: str, column: pa.ChunkedArray, bins: int, top: int) -> ColumnProfile:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    t = column.type
    profile = ColumnProfile(
        name=name,
        type=column_type_name(t),
        count=len(column) - column.null_count,
        missing=column.null_count,
    )
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        _numeric(profile, column, bins)
    elif pa.types.is_timestamp(t) or pa.types.is_date(t):
        _temporal(profile, column, bins)
    elif pa.types.is_boolean(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        _categorical(profile, column, top)
    else:
        profile.unique = _distinct(column)
    return profile


def profile_table(table: pa.Table, *, bins: int = 20, top: int = 10) -> DatasetProfile:
    """Per-column statistics of a table.

    Args:
        table: The rows to profile (a whole dataset, or a sample of it).
        bins: Number of equal-width histogram bins of numeric, date and datetime columns.
        top: How many of the most frequent values of text and boolean columns to keep.

    Returns:
        For every column its type, non-missing ``count``, ``missing`` (nulls, and NaN in float columns),
        distinct values; for numbers min, max, mean, sample standard deviation (ddof=1), exact
        quantiles (linear interpolation, as numpy and pandas) and a histogram; for text and booleans the
        most frequent values; for dates and datetimes ISO 8601 min and max and a histogram over seconds
        since the epoch.
    """
    if bins < 1 or top < 0:
        raise InvalidInput(f"a profile needs bins >= 1 and top >= 0, got bins={bins}, top={top}")
    started = time.perf_counter()
    names = table.column_names
    workers = max(1, min(len(names), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        columns = list(
            pool.map(lambda i: _profile_column(names[i], table.column(i), bins, top), range(len(names)))
        )
    return DatasetProfile(
        dataset_id=None,
        row_count=table.num_rows,
        columns=columns,
        computed_time=datetime.now(UTC),
        duration_seconds=time.perf_counter() - started,
    )
