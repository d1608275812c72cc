"""Materialising environments: real uv, real PyPI, one cached virtualenv per spec."""

from __future__ import annotations

import importlib.metadata
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import ember
from ember.environments import (
    READY_MARKER,
    EnvironmentBuildError,
    EnvironmentCache,
    EnvironmentSpec,
    materialize,
)
from ember.environments.materialize import EnvironmentBuildCanceled
from support.hanging import hanging_index

# six is tiny and pure Python; the project's venv has a newer one, which the pin must shadow.
SIX = EnvironmentSpec(pip=("six==1.16.0",))
MISSING = EnvironmentSpec(pip=("nonexistent-package-zzz-ember==1.0",))


def _venv_commands(lines: list[str]) -> int:
    return sum(1 for line in lines if line.startswith("$ uv venv "))


def _run(python: Path, code: str) -> str:
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_inherit_current_uses_this_interpreter_and_builds_nothing(tmp_path: Path) -> None:
    cache = EnvironmentCache(tmp_path / "envs")
    assert cache.python_for(EnvironmentSpec(inherit_current=True)) == Path(sys.executable)
    assert not (tmp_path / "envs").exists()


def test_environment_variables_do_not_change_the_environment_built(tmp_path: Path) -> None:
    cache = EnvironmentCache(tmp_path)
    with_vars = SIX.model_copy(update={"env_vars": {"MODE": "fast"}})
    assert cache.key(SIX) == cache.key(with_vars)
    assert cache.key(SIX) != cache.key(EnvironmentSpec(pip=("six==1.17.0",)))
    assert cache.key(SIX) == cache.key(SIX.model_copy(update={"python": f"3.{sys.version_info.minor}"}))


@pytest.mark.slow
def test_builds_once_then_answers_from_the_cache(tmp_path: Path) -> None:
    cache = EnvironmentCache(tmp_path)
    leftover = tmp_path / f"{cache.key(SIX)}.tmp-deadbeef"  # a builder killed mid-build
    (leftover / "bin").mkdir(parents=True)
    first: list[str] = []

    python = cache.python_for(SIX, log=first.append)

    assert python == tmp_path / cache.key(SIX) / "bin" / "python"
    assert _venv_commands(first) == 1
    assert any("six==1.16.0" in line for line in first)
    assert not leftover.exists()
    marker = json.loads((python.parent.parent / READY_MARKER).read_text())
    assert marker["spec"]["pip"] == ["six==1.16.0"]

    again: list[str] = []
    started = time.perf_counter()
    assert cache.python_for(SIX, log=again.append) == python
    assert time.perf_counter() - started < 0.05
    assert again == []
    assert [path for path, _ in cache.list_environments()] == [python.parent.parent]


@pytest.mark.slow
def test_built_python_imports_ember_its_dependencies_and_the_pinned_package(tmp_path: Path) -> None:
    assert importlib.metadata.version("six") != "1.16.0", "the shadowing check needs another six here"
    python = EnvironmentCache(tmp_path).python_for(SIX)

    out = _run(
        python, "import ember, sqlalchemy, six, sys; print(six.__version__, ember.__file__, sys.prefix)"
    )

    version, ember_file, prefix = out.split()
    assert version == "1.16.0"
    assert ember_file == ember.__file__
    assert Path(prefix) == python.parent.parent


def _build_in_child(root: str, out: str, barrier: object) -> None:
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if line.startswith("$ uv venv "):
            time.sleep(1.0)  # hold the lock long enough that the other process surely asks meanwhile

    barrier.wait(60)  # type: ignore[attr-defined]
    python = EnvironmentCache(Path(root)).python_for(SIX, log=log)
    Path(out).write_text(json.dumps({"python": str(python), "log": lines}))


@pytest.mark.slow
def test_two_processes_asking_at_once_build_the_environment_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    outs = [tmp_path / f"child{i}.json" for i in range(2)]
    children = [
        ctx.Process(target=_build_in_child, args=(str(tmp_path / "envs"), str(out), barrier)) for out in outs
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
        assert child.exitcode == 0

    results = [json.loads(out.read_text()) for out in outs]
    assert results[0]["python"] == results[1]["python"]
    assert sum(_venv_commands(r["log"]) for r in results) == 1
    waited = next(r["log"] for r in results if _venv_commands(r["log"]) == 0)
    assert any(line.startswith("waiting for another process") for line in waited)
    assert any("built by another process" in line for line in waited)
    assert _run(Path(results[0]["python"]), "import six; print(six.__version__)") == "1.16.0"


@pytest.mark.slow
def test_a_failing_build_says_why_and_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = EnvironmentCache(tmp_path)
    lines: list[str] = []

    with pytest.raises(EnvironmentBuildError) as caught:
        cache.python_for(MISSING, log=lines.append)

    assert "No solution found when resolving dependencies" in caught.value.message
    assert "nonexistent-package-zzz-ember" in caught.value.message
    assert caught.value.code == "environment_build_failed"
    assert caught.value.http_status == 400
    assert any("nonexistent-package-zzz-ember" in line for line in lines)
    assert os.listdir(tmp_path) in ([], [f"{cache.key(MISSING)}.lock"])


def test_running_out_of_time_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = EnvironmentCache(tmp_path)
    with pytest.raises(EnvironmentBuildError, match="timed out"):
        cache.python_for(SIX, timeout=0)
    assert os.listdir(tmp_path) in ([], [f"{cache.key(SIX)}.lock"])


@pytest.fixture
def stalled_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """uv resolves against an index that never answers (and a cold cache), so the install step hangs."""
    with hanging_index() as url:
        monkeypatch.setenv("UV_DEFAULT_INDEX", url)
        monkeypatch.setenv("UV_INDEX_URL", url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        yield url


def test_a_cancel_stops_a_build_within_a_second_and_leaves_nothing_behind(
    tmp_path: Path, stalled_index: str
) -> None:
    root = tmp_path / "envs"
    cache = EnvironmentCache(root)
    cancel = threading.Event()
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        if line.startswith("$ uv pip install"):
            threading.Timer(0.5, cancel.set).start()

    started = time.monotonic()
    with pytest.raises(EnvironmentBuildCanceled, match="canceled during `uv pip install`"):
        cache.python_for(SIX, log=log, cancel=cancel)
    elapsed = time.monotonic() - started

    assert elapsed < 10, f"the build stopped {elapsed:.1f} s after it started"
    assert any(line.startswith("$ uv pip install") for line in lines)
    assert os.listdir(root) == [f"{cache.key(SIX)}.lock"]


def test_a_cancel_stops_waiting_for_another_builder(tmp_path: Path) -> None:
    cache = EnvironmentCache(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    other_builder = cache._lock_for(cache.key(SIX))
    other_builder.acquire()
    cancel = threading.Event()
    lines: list[str] = []
    threading.Timer(0.3, cancel.set).start()
    try:
        with pytest.raises(EnvironmentBuildCanceled, match="waiting for another process"):
            cache.python_for(SIX, log=lines.append, cancel=cancel, timeout=60)
    finally:
        other_builder.release()

    assert any("waiting for another process" in line for line in lines)
    assert not cache.path_for(SIX).exists()


@pytest.mark.slow
def test_remove_deletes_the_environment(tmp_path: Path) -> None:
    cache = EnvironmentCache(tmp_path)
    python = cache.python_for(SIX)
    assert cache.remove(SIX) is True
    assert not python.exists()
    assert cache.remove(SIX) is False
    assert cache.list_environments() == []


def test_another_python_minor_gets_ember_linked_and_its_requirements(tmp_path: Path) -> None:
    # Only one CPython exists on the test machines, so the cross-version build is checked in parts.
    materialize._link_ember(tmp_path, same_abi=False)
    assert (tmp_path / "ember" / "__init__.py").exists()
    requirements = materialize._ember_requirements()
    assert any(r.startswith("pydantic") for r in requirements)
    assert not any("extra ==" in r for r in requirements)


def test_same_python_minor_links_the_parent_site_packages_after_the_environment(tmp_path: Path) -> None:
    materialize._link_ember(tmp_path, same_abi=True)
    lines = (tmp_path / "ember-runtime.pth").read_text().splitlines()
    assert lines[0] == str(Path(ember.__file__).parent.parent)
    assert all(line.startswith("import site; site.addsitedir(") for line in lines[1:])
    assert lines[1:]
