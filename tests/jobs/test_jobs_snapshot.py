"""The source directory a run gets: ignore files, the size limit, and blobs stored once."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import RUN_TIMEOUT_S, Place, blob_count, read_file, write_source

import ember
from ember.errors import PayloadTooLarge

LIST_CWD = """
import os

found = []
for root, folders, files in os.walk("."):
    if root == ".":
        folders[:] = [f for f in folders if f not in ("outputs", "logs")]  # the runner makes these
    found += [os.path.relpath(os.path.join(root, f)).replace(os.sep, "/") for f in files]
with open(os.path.join("outputs", "files.txt"), "w") as out:
    out.write("\\n".join(sorted(found)))
"""


def test_the_run_gets_the_source_directory_without_what_emberignore_leaves_out(
    place: Place, tmp_path: Path
) -> None:
    source = write_source(
        tmp_path / "src",
        {
            "train.py": LIST_CWD,
            ".emberignore": "data/\n*.secret\n!keep.secret\n",
            "data/big.csv": "a,b\n1,2\n",
            "token.secret": "hunter2",
            "keep.secret": "not really",
            "lib/helper.py": "VALUE = 1\n",
            "lib/.emberignore": "notes.txt\n",
            "lib/notes.txt": "scratch",
        },
    )
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py")
    )

    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Completed"
    assert read_file(run, "outputs/files.txt").split("\n") == [
        ".emberignore",
        "keep.secret",
        "lib/.emberignore",
        "lib/helper.py",
        "train.py",
    ]


def test_a_source_directory_over_the_size_limit_is_refused_naming_the_largest_file(
    place: Place, tmp_path: Path
) -> None:
    source = write_source(tmp_path / "src", {"train.py": "print('hi')\n", "data/small.csv": "a\n1\n"})
    with open(source / "data" / "big.bin", "wb") as big:
        big.truncate(301 * 1024 * 1024)  # sparse: the limit is checked before anything is read
    exp = ember.Experiment(place.ws, "e2e")
    blobs_before = blob_count(place.folder)

    with pytest.raises(PayloadTooLarge) as refused:
        exp.submit(ember.ScriptRunConfig(source_directory=source, script="train.py"))

    assert "data/big.bin" in refused.value.message
    assert ".emberignore" in refused.value.message
    assert refused.value.details["largest"][0] == "data/big.bin"
    assert list(exp.get_runs()) == []
    assert blob_count(place.folder) == blobs_before


def test_submitting_an_unchanged_directory_stores_nothing_new(place: Place, tmp_path: Path) -> None:
    # The script writes and prints nothing, so the only blobs are the snapshot's.
    source = write_source(tmp_path / "src", {"train.py": "import helper\n", "helper.py": "VALUE = 1\n"})
    exp = ember.Experiment(place.ws, "e2e")
    config = ember.ScriptRunConfig(source_directory=source, script="train.py")
    jobs = place.ws.backend.jobs

    def submit_and_wait() -> tuple[str, int]:
        run = exp.submit(config)
        assert (
            run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)["info"]["status"] == "Completed"
        )
        digest = jobs.get_run_configuration(run.id).snapshot_digest
        assert digest is not None
        return digest, blob_count(place.folder)

    first, blobs_first = submit_and_wait()
    again, blobs_again = submit_and_wait()
    (source / "helper.py").write_text("VALUE = 2\n")
    changed, blobs_changed = submit_and_wait()

    assert blobs_first == 3  # two files and the manifest
    assert again == first
    assert blobs_again - blobs_first == 0
    assert changed != first
    assert blobs_changed - blobs_again == 2  # the changed file and the new manifest


def test_the_source_files_of_a_run_are_listed_and_downloaded_as_submitted(
    place: Place, tmp_path: Path
) -> None:
    source = write_source(
        tmp_path / "src",
        {"train.py": "print('training')\n", "lib/helper.py": "VALUE = 1\n", "run.sh": "#!/bin/sh\necho hi\n"},
    )
    (source / "run.sh").chmod(0o755)
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py")
    )
    run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    listed = run.get_snapshot_files()
    root = run.download_snapshot(tmp_path / "copy")

    assert [(f["path"], f["size"], f["executable"]) for f in listed] == [
        ("lib/helper.py", 10, False),
        ("run.sh", 18, True),
        ("train.py", 18, False),
    ]
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "lib/helper.py",
        "run.sh",
        "train.py",
    ]
    assert (root / "lib/helper.py").read_text() == "VALUE = 1\n"
    assert (root / "run.sh").stat().st_mode & 0o777 == 0o755
    with pytest.raises(ember.errors.InvalidInput, match="not empty"):
        run.download_snapshot(root)
