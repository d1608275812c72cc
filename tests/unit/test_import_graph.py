"""Ember's modules import one way: no circle anywhere in src/ember, and `make lint` fails on a new one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import circle among the modules of ``graph``, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph.modules):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph.find_modules_directly_imported_by(start)))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.find_modules_directly_imported_by(nxt))))
    return None


def test_no_module_of_ember_imports_itself_through_others_annotations_and_the_root_package_included() -> None:
    graph = grimp.build_graph("ember", exclude_type_checking_imports=False)
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.d")
    assert _cycle(graph) is None
    graph.add_import(importer="a.d", imported="a.b")
    assert _cycle(graph) == ["a.b", "a.c", "a.d", "a.b"]


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("tracking/run.py", "from ember.workspace import Workspace", "Features depend on the Backend"),
        ("data/dataset.py", "from ember.serving.endpoint import Endpoint", "Layers follow DESIGN.md"),
        ("tracking/metric_buffer.py", "from ember.tracking.run import Run", "No import circles"),
    ],
)
def test_lint_imports_fails_on_a_new_upward_import_or_circle(
    tmp_path: Path, module: str, line: str, broken: str
) -> None:
    shutil.copytree(ROOT / "src" / "ember", tmp_path / "src" / "ember")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "src" / "ember" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout
    broken_section = result.stdout.split("Broken contracts", 1)[1]
    assert broken in broken_section
