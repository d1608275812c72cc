"""The Environment SDK object and the registry's versioning, on a local folder workspace."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import ember
from ember.environments import EnvironmentInfo, EnvironmentRegister, EnvironmentSpec, spec_hash
from ember.errors import InvalidInput, NotFound

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
SPECS = [["six==1.16.0"], ["six==1.15.0"], ["six==1.14.0"], ["six==1.13.0"], ["six==1.12.0"], ["six==1.11.0"]]


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[ember.Workspace]:
    """A fresh local workspace in a folder."""
    workspace = ember.Workspace.create(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


# -- building Environment objects ----------------------------------------------------------------
def test_an_environment_is_a_name_and_a_validated_spec() -> None:
    env = ember.Environment("sk", python="3.11", pip=["six==1.16.0"], env_vars={"OMP_NUM_THREADS": "1"})

    assert env.name == "sk"
    assert env.version is None
    assert env.python == "3.11"
    assert env.pip == ("six==1.16.0",)
    assert env.env_vars == {"OMP_NUM_THREADS": "1"}
    assert not env.inherit_current
    assert env.spec == EnvironmentSpec(python="3.11", pip=("six==1.16.0",), env_vars={"OMP_NUM_THREADS": "1"})
    assert "sk" in repr(env)
    assert "six==1.16.0" in repr(env)


def test_from_pip_requirements_reads_the_file(tmp_path: Path) -> None:
    file = tmp_path / "requirements.txt"
    file.write_text("# pinned for the demo\nsix==1.16.0  # tiny\n\npackaging>=23\n")

    env = ember.Environment.from_pip_requirements("sk", file, python="3.12", env_vars={"MODE": "fast"})

    assert env.pip == ("six==1.16.0", "packaging>=23")
    assert env.python == "3.12"
    assert env.env_vars == {"MODE": "fast"}


def test_from_yaml_reads_name_and_spec(tmp_path: Path) -> None:
    file = tmp_path / "env.yml"
    file.write_text('name: sk\npython: "3.11"\npip: [six==1.16.0]\nenv_vars: {MODE: fast}\n')

    env = ember.Environment.from_yaml(file)
    renamed = ember.Environment.from_yaml(file, name="other", description="for tests")

    assert (env.name, env.python, env.pip, env.env_vars) == ("sk", "3.11", ("six==1.16.0",), {"MODE": "fast"})
    assert (renamed.name, renamed.description) == ("other", "for tests")


def test_current_is_the_submitting_interpreter_and_has_no_dockerfile() -> None:
    env = ember.Environment.current()

    assert env.inherit_current
    assert repr(env) == "Environment.current()"
    with pytest.raises(InvalidInput, match="cannot reproduce"):
        env.dockerfile()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ember.Environment("bad name"), "environment name 'bad name' is invalid"),
        (lambda: ember.Environment(""), "is invalid"),
        (lambda: ember.Environment("sk", pip="six==1.16.0"), "list of requirements"),
        (lambda: ember.Environment("sk", pip=["-e ."]), "installer option"),
        (lambda: ember.Environment("sk", pip=["six==="]), "not a valid requirement"),
        (lambda: ember.Environment("sk", python="3.7"), "not supported"),
        (lambda: ember.Environment("sk", python="3.x"), "not a CPython version"),
        (lambda: ember.Environment("sk", env_vars={"PATH": "/x"}), "reserved"),
        (lambda: ember.Environment("sk", env_vars={"1X": "y"}), "invalid"),
    ],
    ids=[
        "name-with-space",
        "empty-name",
        "pip-as-string",
        "pip-option",
        "bad-requirement",
        "old-python",
        "not-a-python",
        "reserved-variable",
        "bad-variable-name",
    ],
)
def test_invalid_environments_are_refused_with_a_reason(build: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build()  # type: ignore[operator]


def test_unreadable_files_are_invalid_input(tmp_path: Path) -> None:
    bad = tmp_path / "requirements.txt"
    bad.write_text("six==1.16.0\n-r other.txt\n")

    with pytest.raises(InvalidInput, match="does not exist"):
        ember.Environment.from_pip_requirements("sk", tmp_path / "missing.txt")
    with pytest.raises(InvalidInput, match="line 2"):
        ember.Environment.from_pip_requirements("sk", bad)
    with pytest.raises(InvalidInput, match="does not exist"):
        ember.Environment.from_yaml(tmp_path / "missing.yml")


def test_the_dockerfile_of_an_unregistered_environment_has_no_version_label() -> None:
    text = ember.Environment("sk", pip=["six==1.16.0"]).dockerfile()

    assert f"FROM python:{THIS_PYTHON}-slim" in text
    assert 'ember.environment.name="sk"' in text
    assert "ember.environment.version" not in text
    assert '"six==1.16.0"' in text


# -- registering ---------------------------------------------------------------------------------
def test_registering_pins_python_and_numbers_versions_per_name(ws: ember.Workspace) -> None:
    first = ember.Environment("sk", pip=["six==1.16.0"], description="first").register(ws)
    again = ember.Environment("sk", pip=["Six == 1.16.0"], description="ignored").register(ws)
    second = ember.Environment("sk", pip=["six==1.15.0"]).register(ws)
    other = ember.Environment("other", pip=["six==1.16.0"]).register(ws)

    assert first.version == 1
    assert first.python == THIS_PYTHON
    assert again.version == 1
    assert again.description == "first"
    assert again.pip == ("six==1.16.0",)
    assert second.version == 2
    assert other.version == 1
    assert first.created_time is not None


def test_the_same_spec_with_an_explicit_python_is_the_same_version(ws: ember.Workspace) -> None:
    implicit = ember.Environment("sk", pip=["six==1.16.0"]).register(ws)
    explicit = ember.Environment("sk", python=THIS_PYTHON, pip=["six==1.16.0"]).register(ws)
    other_python = ember.Environment("sk", python="3.9", pip=["six==1.16.0"]).register(ws)

    assert implicit.version == explicit.version == 1
    assert other_python.version == 2


def test_get_and_list_read_versions_back(ws: ember.Workspace) -> None:
    for pip in SPECS[:3]:
        ember.Environment("sk", pip=pip).register(ws)
    ember.Environment("alpha", pip=SPECS[0]).register(ws)

    latest = ember.Environment.get(ws, "sk")
    first = ember.Environment.get(ws, "sk", version=1)
    listed = ember.Environment.list(ws)
    versions = ember.Environment.list(ws, "sk")

    assert (latest.version, latest.pip) == (3, ("six==1.14.0",))
    assert (first.version, first.pip) == (1, ("six==1.16.0",))
    assert [(e.name, e.version) for e in listed] == [("alpha", 1), ("sk", 3)]
    assert [e.version for e in versions] == [3, 2, 1]
    assert ember.Environment.list(ws, "nobody") == []
    assert first == ember.Environment.get(ws, "sk", 1)
    assert 'ember.environment.version="1"' in first.dockerfile()


def test_unknown_environments_and_versions_are_not_found(ws: ember.Workspace) -> None:
    ember.Environment("sk", pip=SPECS[0]).register(ws)

    with pytest.raises(NotFound, match="register it first"):
        ember.Environment.get(ws, "missing")
    with pytest.raises(NotFound, match="latest is version 1"):
        ember.Environment.get(ws, "sk", version=7)
    with pytest.raises(InvalidInput):
        ember.Environment.get(ws, "sk", version=0)


def test_the_current_interpreter_cannot_be_registered(ws: ember.Workspace) -> None:
    with pytest.raises(InvalidInput, match="cannot be registered"):
        ember.Environment.current().register(ws)
    assert ember.Environment.list(ws) == []


def test_the_backend_validates_requests_that_skipped_validation(ws: ember.Workspace) -> None:
    unchecked = EnvironmentRegister.model_construct(
        name="sk", spec=EnvironmentSpec.model_construct(pip=("-e .",)), description=None
    )
    bad_name = EnvironmentRegister.model_construct(name="a/b", spec=EnvironmentSpec(), description=None)

    with pytest.raises(InvalidInput, match="installer option"):
        ws.backend.environments.register(unchecked)
    with pytest.raises(InvalidInput, match="is invalid"):
        ws.backend.environments.register(bad_name)


def test_the_stored_hash_is_the_hash_of_the_stored_spec(ws: ember.Workspace) -> None:
    info = ws.backend.environments.get(ember.Environment("sk", pip=SPECS[0]).register(ws).name)

    assert isinstance(info, EnvironmentInfo)
    assert info.spec_hash == spec_hash(info.spec)
    assert info.spec.python == THIS_PYTHON


# -- concurrency ---------------------------------------------------------------------------------
def _assert_consistent(ws: ember.Workspace, name: str, answers: list[dict[str, int]], specs: int) -> None:
    """Every caller saw the same version for a spec, and the versions are exactly 1..specs."""
    stored = {tuple(e.pip): e.version for e in ember.Environment.list(ws, name)}
    assert sorted(stored.values()) == list(range(1, specs + 1))
    for answer in answers:
        assert answer == {pip[0]: stored[(pip[0],)] for pip in SPECS[:specs]}


def test_eight_threads_registering_at_once_agree_on_versions(ws: ember.Workspace) -> None:
    threads = 8
    specs = 4
    barrier = threading.Barrier(threads)

    def work(worker: int) -> dict[str, int]:
        barrier.wait(30)
        seen: dict[str, int] = {}
        for i in range(specs):
            pip = SPECS[(worker + i) % specs]
            env = ember.Environment("race", pip=pip).register(ws)
            assert env.version is not None
            seen[pip[0]] = env.version
        return seen

    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(work, range(threads)))

    _assert_consistent(ws, "race", answers, specs)


def _register_in_child(location: str, worker: int, specs: int) -> dict[str, int]:
    import ember

    workspace = ember.Workspace.get(location)
    try:
        seen: dict[str, int] = {}
        for i in range(specs):
            pip = SPECS[(worker + i) % specs]
            version = ember.Environment("race", pip=pip).register(workspace).version
            assert version is not None
            seen[pip[0]] = version
        return seen
    finally:
        workspace.close()


def test_four_processes_registering_at_once_agree_on_versions(ws: ember.Workspace) -> None:
    processes = 4
    specs = len(SPECS)
    context = multiprocessing.get_context("spawn")
    assert ws.target is not None
    with context.Pool(processes) as pool:
        pending = [
            pool.apply_async(_register_in_child, (ws.target, worker, specs)) for worker in range(processes)
        ]
        answers = [result.get(timeout=120) for result in pending]

    _assert_consistent(ws, "race", answers, specs)
