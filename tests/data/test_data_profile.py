"""Profiles of tables: the numbers match numpy and pandas, and the whole profile is plain JSON."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

from ember.data.profile import QUANTILES, profile_table
from ember.entities.data import ColumnProfile, DatasetProfile
from ember.errors import InvalidInput


def _table() -> pa.Table:
    rng = np.random.default_rng(3)
    size = 1000
    x = rng.normal(10, 2, size)
    x[::10] = np.nan  # NaN counts as missing, as in pandas
    n = pa.array(rng.integers(0, 50, size), mask=np.arange(size) % 7 == 0)
    when = np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 86_400 * 30, size).astype("timedelta64[s]")
    return pa.table(
        {
            "x": x,
            "n": n,
            "kind": pa.array(rng.choice(["a", "b", "c", "d"], size, p=[0.5, 0.3, 0.15, 0.05])),
            "flag": pa.array(rng.random(size) < 0.2),
            "when": pa.array(when),
            "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i % 10) for i in range(size)]),
            "path": pa.DictionaryArray.from_arrays(pa.array(np.zeros(size, np.int32)), pa.array(["a.csv"])),
        }
    )


def _column(profile: DatasetProfile, name: str) -> ColumnProfile:
    return next(c for c in profile.columns if c.name == name)


def test_numeric_statistics_match_pandas() -> None:
    table = _table()
    frame = table.to_pandas()

    profile = profile_table(table)

    for name in ("x", "n"):
        column = _column(profile, name)
        series = frame[name]
        assert column.count == series.count()
        assert column.missing == series.isna().sum()
        assert column.unique == series.nunique()
        assert column.min == pytest.approx(series.min())
        assert column.max == pytest.approx(series.max())
        assert column.mean == pytest.approx(series.mean())
        assert column.std == pytest.approx(series.std())  # sample standard deviation, ddof=1
        assert column.quantiles is not None
        expected = series.quantile(list(QUANTILES))
        for q in QUANTILES:
            assert column.quantiles[str(q)] == pytest.approx(expected[q])


def test_the_histogram_covers_every_value_in_equal_bins() -> None:
    table = _table()
    values = table.column("x").to_numpy()
    values = values[~np.isnan(values)]

    column = _column(profile_table(table, bins=8), "x")

    assert column.histogram is not None
    assert len(column.histogram) == 8
    assert sum(count for _, _, count in column.histogram) == values.size
    assert column.histogram[0][0] == pytest.approx(values.min())
    assert column.histogram[-1][1] == pytest.approx(values.max())
    expected, _ = np.histogram(values, bins=8)
    assert [count for _, _, count in column.histogram] == expected.tolist()


def test_text_and_booleans_report_their_most_frequent_values() -> None:
    table = _table()
    frame = table.to_pandas()

    profile = profile_table(table, top=2)

    kind = _column(profile, "kind")
    counts = frame["kind"].value_counts()
    assert kind.type == "string"
    assert kind.unique == 4
    assert kind.top_values == [(counts.index[0], int(counts.iloc[0])), (counts.index[1], int(counts.iloc[1]))]
    assert (kind.min, kind.max) == ("a", "d")
    flag = _column(profile, "flag")
    assert flag.type == "bool"
    assert dict(flag.top_values or []) == {True: int(frame["flag"].sum()), False: int((~frame["flag"]).sum())}
    assert _column(profile, "path").top_values == [("a.csv", 1000)]


def test_dates_and_datetimes_report_iso_bounds_and_a_histogram() -> None:
    table = _table()
    frame = table.to_pandas()

    profile = profile_table(table)

    when = _column(profile, "when")
    assert when.type == "datetime"
    assert when.min == frame["when"].min().isoformat()
    assert when.max == frame["when"].max().isoformat()
    assert sum(c for _, _, c in when.histogram or []) == 1000
    day = _column(profile, "day")
    assert (day.type, day.min, day.max, day.unique) == ("date", "2024-01-01", "2024-01-10", 10)


def test_the_profile_is_plain_json_with_row_count_and_timing() -> None:
    table = pa.table({"x": [1.0, float("inf"), None], "s": pa.array([None, None, None], pa.string())})

    profile = profile_table(table)

    text = json.dumps(profile.model_dump(mode="json"), allow_nan=False)
    assert json.loads(text)["row_count"] == 3
    assert profile.dataset_id is None
    assert profile.computed_time.tzinfo is not None
    assert profile.duration_seconds >= 0
    assert _column(profile, "x").max is None  # infinity is not a JSON number
    assert (_column(profile, "s").missing, _column(profile, "s").unique) == (3, 0)


def test_large_numeric_columns_estimate_distinct_values_closely() -> None:
    values = np.arange(1_200_000, dtype=np.float64) % 400_000

    column = _column(profile_table(pa.table({"v": values})), "v")

    assert column.unique == pytest.approx(400_000, rel=0.03)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InvalidInput, match="bins >= 1"):
        profile_table(pa.table({"x": [1]}), bins=0)


def test_an_empty_table_profiles_to_counts_only() -> None:
    table = pa.table({"x": pa.array([], pa.float64()), "s": pa.array([], pa.string())})

    profile = profile_table(table)

    assert profile.row_count == 0
    x, s = profile.columns
    assert (x.count, x.missing, x.unique, x.mean, x.histogram) == (0, 0, 0, None, None)
    assert (s.count, s.missing, s.unique, s.top_values) == (0, 0, 0, None)
