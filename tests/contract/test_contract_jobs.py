"""Jobs: snapshot blobs, submitting a run, its logs, heartbeats, cancel, compute targets, bad input.

Most of the contract is exercised without a script; the few submissions run a trivial script for
real (the backend launches a runner when its compute target has room) and poll until it ends.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from contract_support import Target, blob_path, chunks_of, finish, new_experiment, new_run, sha256, unique

from ember.backend import Backend
from ember.entities import TERMINAL_STATUSES, RunDetails, RunSearch, RunStatus
from ember.entities.jobs import ComputeTargetUpdate, RunConfiguration, RunSubmit
from ember.errors import Conflict, InvalidInput, NotFound
from ember.jobs.snapshot import SnapshotFile, encode_manifest
from ember.tracking.validation import build

UNKNOWN = "0123456789abcdef0123456789abcdef"
RUN_DEADLINE_S = 60.0


# -- helpers -------------------------------------------------------------------------------------------
def upload_snapshot(backend: Backend, files: dict[str, bytes], *, register: bool = True) -> str:
    """Upload files and their manifest the way a client does, and return the snapshot's digest."""
    entries = [SnapshotFile(path=p, digest=sha256(b), size=len(b), mode=0o644) for p, b in files.items()]
    manifest = encode_manifest(entries)
    for data in files.values():
        backend.jobs.upload_blob(sha256(data), [data])
    backend.jobs.upload_blob(sha256(manifest), [manifest])
    if register:
        backend.jobs.register_snapshot(sha256(manifest))
    return sha256(manifest)


def submit(backend: Backend, experiment_id: str, snapshot: str | None, **config: object) -> RunDetails:
    """Submit a run of the current interpreter."""
    return backend.jobs.submit_run(
        RunSubmit(
            experiment_id=experiment_id,
            config=RunConfiguration(**config),  # type: ignore[arg-type]
            snapshot_digest=snapshot,
            python_executable=sys.executable,
        )
    )


def wait_until(condition: Callable[[], bool], what: str, timeout: float = RUN_DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.05)


def wait_for_end(backend: Backend, run_id: str) -> RunStatus:
    wait_until(
        lambda: backend.tracking.get_run(run_id).info.status in TERMINAL_STATUSES, f"run {run_id} to end"
    )
    return backend.tracking.get_run(run_id).info.status


def runs_of(backend: Backend, experiment_id: str) -> list[str]:
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[experiment_id]))
    return [r.info.id for r in page.runs]


GATED = b"""import os, sys, time
started = time.time()
while not os.path.exists(sys.argv[1]) and time.time() < started + 60:
    time.sleep(0.02)
print("through the gate")
"""


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Path]:
    """A file whose creation lets a GATED script finish; created after the test in any case."""
    path = tmp_path / "gate"
    try:
        yield path
    finally:
        path.touch()


# -- snapshot blobs ------------------------------------------------------------------------------------
def test_missing_blobs_lists_what_the_workspace_lacks_until_it_is_uploaded(backend: Backend) -> None:
    data = unique("blob").encode() * 1000
    digest = sha256(data)

    assert backend.jobs.missing_blobs([digest, digest]) == [digest]
    backend.jobs.upload_blob(digest, chunks_of(data, 777))
    assert backend.jobs.missing_blobs([digest]) == []
    backend.jobs.upload_blob(digest, [data])  # once more: nothing to do
    assert backend.jobs.missing_blobs([digest]) == []
    assert backend.jobs.missing_blobs([]) == []


def test_an_upload_whose_bytes_do_not_match_its_digest_is_refused_and_nothing_is_stored(
    target: Target,
) -> None:
    jobs = target.backend.jobs
    data = unique("the real bytes").encode()
    claimed, actual = sha256(unique("other bytes").encode()), sha256(data)

    with pytest.raises(InvalidInput):
        jobs.upload_blob(claimed, [data])

    assert jobs.missing_blobs([claimed, actual]) == [claimed, actual]
    assert not blob_path(target.artifact_root, actual).exists()
    assert not blob_path(target.artifact_root, claimed).exists()


@pytest.mark.parametrize("bad", ["abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65])
def test_a_malformed_digest_is_refused(backend: Backend, bad: str) -> None:
    with pytest.raises(InvalidInput):
        backend.jobs.missing_blobs([bad])
    with pytest.raises(InvalidInput):
        backend.jobs.upload_blob(bad, [b"x"])
    with pytest.raises(InvalidInput):
        backend.jobs.register_snapshot(bad)


def test_register_snapshot_refuses_unknown_or_incomplete_or_invalid_manifests(backend: Backend) -> None:
    script = unique("print('hi')").encode()
    listed_not_uploaded = unique("never uploaded").encode()
    manifest = encode_manifest(
        [
            SnapshotFile(path="main.py", digest=sha256(script), size=len(script), mode=0o644),
            SnapshotFile(path="lib/data.txt", digest=sha256(listed_not_uploaded), size=1, mode=0o644),
        ]
    )
    backend.jobs.upload_blob(sha256(script), [script])
    backend.jobs.upload_blob(sha256(manifest), [manifest])
    not_json = unique("not a manifest").encode()
    backend.jobs.upload_blob(sha256(not_json), [not_json])

    with pytest.raises(NotFound):
        backend.jobs.register_snapshot(sha256(unique("no such manifest").encode()))
    with pytest.raises(InvalidInput) as incomplete:
        backend.jobs.register_snapshot(sha256(manifest))
    with pytest.raises(InvalidInput):
        backend.jobs.register_snapshot(sha256(not_json))

    assert "lib/data.txt" in incomplete.value.message
    exp = new_experiment(backend)
    with pytest.raises(InvalidInput):  # an unregistered snapshot cannot be submitted
        submit(backend, exp.id, sha256(manifest), script="main.py")
    assert runs_of(backend, exp.id) == []


def test_register_snapshot_is_idempotent(backend: Backend) -> None:
    files = {"main.py": unique("print(1)").encode()}
    digest = upload_snapshot(backend, files)

    backend.jobs.register_snapshot(digest)

    assert backend.jobs.missing_blobs([digest, sha256(files["main.py"])]) == []


# -- submitting ----------------------------------------------------------------------------------------
def test_a_submitted_script_runs_to_completion_with_its_configuration_logs_and_files(
    backend: Backend,
) -> None:
    script = b"import sys\nprint('h\\u00e9llo', sys.argv[1:])\n"
    snapshot = upload_snapshot(backend, {"main.py": script, "lib/util.py": unique("X = 1").encode()})
    exp = new_experiment(backend)
    request = RunSubmit(
        experiment_id=exp.id,
        config=RunConfiguration(script="./main.py", arguments=["a b", "ü"], env_vars={"MODE": "test"}),
        snapshot_digest=snapshot,
        git={"repository": "https://example.com/repo.git", "commit": "abc123", "dirty": True},
        display_name="trivial",
        tags={"team": "jobs"},
        user="ada",
        python_executable=sys.executable,
    )

    submitted = backend.jobs.submit_run(request)
    status = wait_for_end(backend, submitted.info.id)

    run_id = submitted.info.id
    assert submitted.info.status in (RunStatus.QUEUED, RunStatus.STARTING)
    assert submitted.info.run_type == "script"
    assert submitted.info.display_name == "trivial"
    assert submitted.tags == {"team": "jobs"}
    assert status == RunStatus.COMPLETED
    stored = backend.jobs.get_run_configuration(run_id)
    assert stored.config == request.config.model_copy(update={"script": "main.py"})
    assert stored.snapshot_digest == snapshot
    assert stored.git == request.git
    assert stored.python_executable == sys.executable
    assert backend.jobs.list_logs(run_id) == ["runner_log.txt", "std_log.txt"]
    log = backend.jobs.read_log(run_id, "std_log.txt")
    assert log.data == "héllo ['a b', 'ü']\n"
    assert log.complete
    assert log.status == RunStatus.COMPLETED
    assert "user_logs/std_log.txt" in [a.path for a in backend.tracking.list_artifacts(run_id)]
    assert backend.jobs.heartbeat(run_id) == RunStatus.COMPLETED
    with pytest.raises(Conflict):
        backend.jobs.cancel_run(run_id)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"compute_target": "gpu-cluster"}, NotFound),
        ({"script": "missing.py"}, InvalidInput),
        ({"script": "../main.py"}, InvalidInput),
        ({"snapshot": "0" * 64}, InvalidInput),
        ({"experiment_id": UNKNOWN}, NotFound),
    ],
    ids=[
        "unknown-compute-target",
        "script-not-in-snapshot",
        "script-outside",
        "unknown-snapshot",
        "unknown-experiment",
    ],
)
def test_a_submission_that_cannot_run_is_refused_and_creates_no_run(
    backend: Backend, change: dict[str, str], error: type[Exception]
) -> None:
    snapshot = upload_snapshot(backend, {"main.py": unique("print(1)").encode()})
    exp = new_experiment(backend)
    arguments = {"script": "main.py", "compute_target": "local"}
    arguments.update({k: v for k, v in change.items() if k in arguments})

    with pytest.raises(error):
        submit(
            backend,
            change.get("experiment_id", exp.id),
            change.get("snapshot", snapshot),
            **arguments,
        )

    assert runs_of(backend, exp.id) == []


def test_a_queued_run_is_canceled_at_once_and_never_starts(backend: Backend, gate: Path) -> None:
    snapshot = upload_snapshot(backend, {"gated.py": GATED})
    exp = new_experiment(backend)
    before = backend.jobs.get_compute_target("local").max_concurrent_runs
    backend.jobs.update_compute_target("local", ComputeTargetUpdate(max_concurrent_runs=1))
    try:
        busy = submit(backend, exp.id, snapshot, script="gated.py", arguments=[str(gate)]).info.id
        wait_until(lambda: backend.tracking.get_run(busy).info.status == RunStatus.RUNNING, "the first run")
        waiting = submit(backend, exp.id, snapshot, script="gated.py", arguments=[str(gate)])
        load = backend.jobs.get_compute_target("local")

        canceled = backend.jobs.cancel_run(waiting.info.id)
        gate.touch()
        busy_status = wait_for_end(backend, busy)
    finally:
        backend.jobs.update_compute_target("local", ComputeTargetUpdate(max_concurrent_runs=before))

    assert waiting.info.status == RunStatus.QUEUED
    assert (load.active_runs, load.queued_runs) == (1, 1)
    assert canceled.status == RunStatus.CANCELED
    assert canceled.end_time is not None
    assert busy_status == RunStatus.COMPLETED
    assert backend.tracking.get_run(waiting.info.id).info.status == RunStatus.CANCELED
    assert backend.jobs.list_logs(waiting.info.id) == []  # its runner never started
    with pytest.raises(Conflict):
        backend.jobs.cancel_run(waiting.info.id)


def test_raising_a_capacity_starts_queued_runs_at_once(backend: Backend, gate: Path) -> None:
    snapshot = upload_snapshot(backend, {"gated.py": GATED})
    exp = new_experiment(backend)
    before = backend.jobs.get_compute_target("local").max_concurrent_runs
    backend.jobs.update_compute_target("local", ComputeTargetUpdate(max_concurrent_runs=1))
    try:
        busy = submit(backend, exp.id, snapshot, script="gated.py", arguments=[str(gate)]).info.id
        waiting = submit(backend, exp.id, snapshot, script="gated.py", arguments=[str(gate)]).info.id
        queued = backend.tracking.get_run(waiting).info.status

        grown = backend.jobs.update_compute_target("local", ComputeTargetUpdate(max_concurrent_runs=2))
        started = backend.tracking.get_run(waiting).info.status
        gate.touch()
        ends = [wait_for_end(backend, busy), wait_for_end(backend, waiting)]
    finally:
        backend.jobs.update_compute_target("local", ComputeTargetUpdate(max_concurrent_runs=before))

    assert queued == RunStatus.QUEUED
    assert (grown.max_concurrent_runs, grown.active_runs, grown.queued_runs) == (2, 2, 0)
    assert started != RunStatus.QUEUED
    assert ends == [RunStatus.COMPLETED, RunStatus.COMPLETED]


# -- logs ----------------------------------------------------------------------------------------------
LOG_PARTS = ["épique début ", "🎉 emoji\n", "日本語のテキスト\n", "plain ascii\n", "ß" * 50 + "\n"]


def test_logs_are_read_back_by_character_offsets_in_pages(backend: Backend) -> None:
    run_id = new_run(backend, new_experiment(backend).id).info.id
    for part in LOG_PARTS:
        backend.jobs.append_log(run_id, "std_log.txt", part)
    backend.jobs.append_log(run_id, "std_log.txt", "")  # nothing to add
    whole = "".join(LOG_PARTS)

    everything = backend.jobs.read_log(run_id, "std_log.txt")
    pages: list[str] = []
    offset = 0
    while True:
        page = backend.jobs.read_log(run_id, "std_log.txt", offset=offset, max_chars=7)
        assert page.offset == offset
        assert len(page.data) <= 7
        if not page.data:
            break
        pages.append(page.data)
        offset = page.next_offset
    middle = backend.jobs.read_log(run_id, "std_log.txt", offset=13, max_chars=4)

    assert everything.data == whole
    assert (everything.offset, everything.next_offset) == (0, len(whole))
    assert everything.status == RunStatus.RUNNING
    assert not everything.complete
    assert pages == [whole[i : i + 7] for i in range(0, len(whole), 7)]
    assert offset == len(whole)
    assert (middle.data, middle.next_offset) == (whole[13:17], 17)
    assert backend.jobs.read_log(run_id, "std_log.txt", offset=len(whole) + 5).data == ""


def test_a_log_is_complete_once_the_run_ended_and_everything_was_read(backend: Backend) -> None:
    run_id = new_run(backend, new_experiment(backend).id).info.id
    backend.jobs.append_log(run_id, "std_log.txt", "".join(LOG_PARTS))
    finish(backend, run_id)
    size = len("".join(LOG_PARTS))

    first_page = backend.jobs.read_log(run_id, "std_log.txt", max_chars=10)
    rest = backend.jobs.read_log(run_id, "std_log.txt", offset=first_page.next_offset)

    assert first_page.status == RunStatus.COMPLETED
    assert not first_page.complete
    assert rest.complete
    assert rest.next_offset == size


def test_list_logs_names_each_log_of_a_run_once(backend: Backend) -> None:
    exp = new_experiment(backend)
    run_id = new_run(backend, exp.id).info.id
    other = new_run(backend, exp.id).info.id
    assert backend.jobs.list_logs(run_id) == []

    backend.jobs.append_log(run_id, "std_log.txt", "a\n")
    backend.jobs.append_log(run_id, "runner_log.txt", "b\n")
    backend.jobs.append_log(run_id, "std_log.txt", "c\n")

    assert backend.jobs.list_logs(run_id) == ["runner_log.txt", "std_log.txt"]
    assert backend.jobs.list_logs(other) == []
    assert backend.jobs.read_log(other, "std_log.txt").data == ""


@pytest.mark.parametrize("name", ["Std_log.txt", "std_log.log", "std log.txt", "x" * 41 + ".txt", ".txt"])
def test_a_malformed_log_name_is_refused(backend: Backend, name: str) -> None:
    run_id = new_run(backend, new_experiment(backend).id).info.id

    with pytest.raises(InvalidInput):
        backend.jobs.append_log(run_id, name, "text")
    with pytest.raises(InvalidInput):
        backend.jobs.read_log(run_id, name)

    assert backend.jobs.list_logs(run_id) == []


@pytest.mark.parametrize(("offset", "max_chars"), [(-1, 10), (0, 0), (0, 10_000_001)])
def test_a_bad_log_window_is_refused(backend: Backend, offset: int, max_chars: int) -> None:
    run_id = new_run(backend, new_experiment(backend).id).info.id

    with pytest.raises(InvalidInput):
        backend.jobs.read_log(run_id, "std_log.txt", offset=offset, max_chars=max_chars)


# -- heartbeat and cancel ------------------------------------------------------------------------------
def test_heartbeat_answers_the_run_status(backend: Backend) -> None:
    run_id = new_run(backend, new_experiment(backend).id).info.id

    assert backend.jobs.heartbeat(run_id) == RunStatus.RUNNING
    finish(backend, run_id, RunStatus.FAILED)
    assert backend.jobs.heartbeat(run_id) == RunStatus.FAILED
    assert backend.tracking.get_run(run_id).info.status == RunStatus.FAILED


def test_an_interactive_run_is_canceled_at_once_and_only_once(backend: Backend) -> None:
    exp = new_experiment(backend)
    run_id = new_run(backend, exp.id).info.id
    done = new_run(backend, exp.id).info.id
    finish(backend, done)

    canceled = backend.jobs.cancel_run(run_id)

    assert canceled.status == RunStatus.CANCELED
    assert canceled.end_time is not None
    assert backend.tracking.get_run(run_id).info.status == RunStatus.CANCELED
    with pytest.raises(Conflict):
        backend.jobs.cancel_run(run_id)
    with pytest.raises(Conflict):
        backend.jobs.cancel_run(done)
    assert backend.tracking.get_run(done).info.status == RunStatus.COMPLETED


# -- compute targets -----------------------------------------------------------------------------------
@pytest.mark.isolated_workspace
def test_every_workspace_has_a_local_target_sized_to_the_machine(backend: Backend) -> None:
    targets = backend.jobs.list_compute_targets()
    local = backend.jobs.get_compute_target("local")

    assert [t.name for t in targets] == ["local"]
    assert local.kind == "local"
    assert local.max_concurrent_runs == (os.cpu_count() or 1)
    assert (local.active_runs, local.queued_runs) == (0, 0)
    assert targets[0] == local


def test_a_compute_target_capacity_can_be_changed(backend: Backend) -> None:
    before = backend.jobs.get_compute_target("local").max_concurrent_runs
    try:
        changed = backend.jobs.update_compute_target(
            "local", ComputeTargetUpdate(max_concurrent_runs=before + 3)
        )
        read_back = backend.jobs.get_compute_target("local")
        listed = {t.name: t for t in backend.jobs.list_compute_targets()}["local"]
    finally:
        backend.jobs.update_compute_target("local", ComputeTargetUpdate(max_concurrent_runs=before))

    assert changed.max_concurrent_runs == before + 3
    assert read_back.max_concurrent_runs == before + 3
    assert listed.max_concurrent_runs == before + 3


@pytest.mark.parametrize("capacity", [0, -1, 10_001])
def test_an_invalid_capacity_is_refused_and_changes_nothing(target: Target, capacity: int) -> None:
    backend = target.backend
    before = backend.jobs.get_compute_target("local").max_concurrent_runs

    with pytest.raises(InvalidInput):
        backend.jobs.update_compute_target("local", build(ComputeTargetUpdate, max_concurrent_runs=capacity))
    if target.kind == "remote":  # what the server answers a client that skips the SDK's validation
        answer = httpx.patch(
            f"{target.location}/api/v1/compute/local", json={"max_concurrent_runs": capacity}
        )
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "invalid_input"

    assert backend.jobs.get_compute_target("local").max_concurrent_runs == before


def test_an_unknown_compute_target_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.jobs.get_compute_target("gpu-cluster")
    with pytest.raises(NotFound):
        backend.jobs.update_compute_target("gpu-cluster", ComputeTargetUpdate(max_concurrent_runs=2))

    assert "gpu-cluster" not in [t.name for t in backend.jobs.list_compute_targets()]


# -- bad run ids ---------------------------------------------------------------------------------------
RUN_CALLS: list[tuple[str, Callable[[Backend, str], object]]] = [
    ("get_run_configuration", lambda b, r: b.jobs.get_run_configuration(r)),
    ("cancel_run", lambda b, r: b.jobs.cancel_run(r)),
    ("heartbeat", lambda b, r: b.jobs.heartbeat(r)),
    ("append_log", lambda b, r: b.jobs.append_log(r, "std_log.txt", "x")),
    ("read_log", lambda b, r: b.jobs.read_log(r, "std_log.txt")),
    ("list_logs", lambda b, r: b.jobs.list_logs(r)),
    ("get_run_snapshot", lambda b, r: b.jobs.get_run_snapshot(r)),
    ("open_snapshot_file", lambda b, r: b.jobs.open_snapshot_file(r, "main.py")),
]


@pytest.mark.parametrize(("name", "call"), RUN_CALLS, ids=[n for n, _ in RUN_CALLS])
def test_a_malformed_run_id_is_invalid_and_an_unknown_one_not_found(
    backend: Backend, name: str, call: Callable[[Backend, str], object]
) -> None:
    with pytest.raises(InvalidInput):
        call(backend, "not-a-run-id")
    with pytest.raises(InvalidInput):
        call(backend, UNKNOWN.upper())
    with pytest.raises(NotFound):
        call(backend, UNKNOWN)


def test_an_interactive_run_has_no_run_configuration(backend: Backend) -> None:
    run_id = new_run(backend, new_experiment(backend).id).info.id

    with pytest.raises(NotFound):
        backend.jobs.get_run_configuration(run_id)


# -- snapshots of runs -----------------------------------------------------------------------------------
def test_a_submitted_runs_snapshot_lists_its_files_and_serves_their_bytes(backend: Backend) -> None:
    files = {
        "main.py": b"print('ok')\n",
        "lib/util.py": unique("X = 1").encode(),
        "run.sh": b"#!/bin/sh\necho hi\n",
        "data/empty.txt": b"",
    }
    entries = [
        SnapshotFile(path=p, digest=sha256(b), size=len(b), mode=0o755 if p == "run.sh" else 0o644)
        for p, b in files.items()
    ]
    manifest = encode_manifest(entries)
    for data in [*files.values(), manifest]:
        backend.jobs.upload_blob(sha256(data), [data])
    backend.jobs.register_snapshot(sha256(manifest))
    run_id = submit(backend, new_experiment(backend).id, sha256(manifest), script="main.py").info.id

    listing = backend.jobs.get_run_snapshot(run_id)
    info, chunks = backend.jobs.open_snapshot_file(run_id, "lib/util.py")
    served = b"".join(chunks)
    _, empty = backend.jobs.open_snapshot_file(run_id, "data/empty.txt")

    assert listing.run_id == run_id
    assert listing.snapshot_digest == sha256(manifest)
    assert [f.path for f in listing.files] == ["data/empty.txt", "lib/util.py", "main.py", "run.sh"]
    assert listing.file_count == 4
    assert listing.total_size == sum(len(b) for b in files.values())
    assert [f.executable for f in listing.files] == [False, False, False, True]
    assert {f.path: f.digest for f in listing.files} == {p: sha256(b) for p, b in files.items()}
    assert served == files["lib/util.py"]
    assert (info.path, info.size, info.digest) == ("lib/util.py", len(served), sha256(served))
    assert b"".join(empty) == b""
    wait_for_end(backend, run_id)


def test_a_snapshot_file_that_is_not_there_or_badly_named_is_refused(backend: Backend) -> None:
    snapshot = upload_snapshot(backend, {"main.py": unique("print(1)").encode()})
    run_id = submit(backend, new_experiment(backend).id, snapshot, script="main.py").info.id

    with pytest.raises(NotFound):
        backend.jobs.open_snapshot_file(run_id, "other.py")
    with pytest.raises(NotFound):
        backend.jobs.open_snapshot_file(run_id, "main.py/inner")
    for bad in ["../main.py", "/etc/passwd", "..", ""]:
        with pytest.raises(InvalidInput):
            backend.jobs.open_snapshot_file(run_id, bad)
    wait_for_end(backend, run_id)


def test_an_interactive_run_has_no_snapshot(backend: Backend) -> None:
    run_id = new_run(backend, new_experiment(backend).id).info.id

    with pytest.raises(NotFound, match="no snapshot"):
        backend.jobs.get_run_snapshot(run_id)
    with pytest.raises(NotFound):
        backend.jobs.open_snapshot_file(run_id, "main.py")
