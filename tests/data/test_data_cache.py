"""The parsed-table cache: unchanged files are a hit, any change a miss, and the budget holds."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ember.data import engine
from ember.data.files import resolve_files
from ember.entities.data import DatasetDefinition, DatastoreAccess

pa = pytest.importorskip("pyarrow")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("EMBER_DATA_CACHE", str(folder))
    monkeypatch.setenv("EMBER_DATA_CACHE_MIN_BYTES", "0")
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real parses (the cache's misses)."""
    calls: list[int] = []
    original = engine._read_all

    def counting(definition: DatasetDefinition, files: object) -> object:
        calls.append(1)
        return original(definition, files)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_read_all", counting)
    return calls


def _settle() -> None:
    """Wait for the cache's background writers, as a later process would find their entries."""
    for thread in threading.enumerate():
        if thread.name == "ember-table-cache":
            thread.join(timeout=30)


def _read(root: Path, *, transforms: list[dict[str, object]] | None = None) -> object:
    definition = DatasetDefinition.model_validate(
        {
            "kind": "tabular",
            "format": "delimited",
            "sources": [{"datastore": "raw", "path": "*.csv"}],
            "transforms": transforms or [],
        }
    )
    access = DatastoreAccess(datastore="raw", protocol="file", root=str(root))
    table = engine.read_table(definition, resolve_files({"raw": access}, definition))
    _settle()
    return table


def _write(root: Path, name: str, rows: int, start: int = 0) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text("x,s\n" + "".join(f"{i},v{i % 7}\n" for i in range(start, start + rows)))


def test_a_second_read_of_unchanged_files_is_served_from_the_cache(
    tmp_path: Path, cache_dir: Path, parses: list[int]
) -> None:
    _write(tmp_path / "data", "a.csv", 1000)

    first = _read(tmp_path / "data")
    second = _read(tmp_path / "data")
    keep = _read(
        tmp_path / "data",
        transforms=[{"op": "take", "count": 5_000_000}, {"op": "keep_columns", "columns": ["s"]}],
    )

    assert first.equals(second)  # type: ignore[attr-defined]
    assert keep.column_names == ["s"]  # type: ignore[attr-defined]
    assert len(parses) == 1  # transformations apply to the cached parse
    assert len(list(cache_dir.glob("*/*.arrow"))) == 1


def test_a_changed_file_is_parsed_again(tmp_path: Path, cache_dir: Path, parses: list[int]) -> None:
    _write(tmp_path / "data", "a.csv", 1000)
    _read(tmp_path / "data")
    _write(tmp_path / "data", "a.csv", 1000, start=5)  # same size, other content, later mtime
    stat = (tmp_path / "data" / "a.csv").stat()
    os.utime(tmp_path / "data" / "a.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    table = _read(tmp_path / "data")

    assert len(parses) == 2
    assert table.column("x")[0].as_py() == 5  # type: ignore[attr-defined]


def test_the_cache_stays_within_its_budget_and_can_be_switched_off(
    tmp_path: Path, cache_dir: Path, parses: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBER_DATA_CACHE_MAX_BYTES", "30000")
    for i in range(4):
        _write(tmp_path / f"d{i}", "a.csv", 1000)
        _read(tmp_path / f"d{i}")
    total = sum(p.stat().st_size for p in cache_dir.glob("*/*.arrow"))
    monkeypatch.setenv("EMBER_DATA_CACHE", "off")
    _read(tmp_path / "d3")

    assert 0 < total <= 30000
    assert len(parses) == 5
