"""A user logs artifacts by path and uploads folders; bad paths and ids are refused with clear messages."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from ember.artifacts import check_id, is_valid_id, new_id, normalize_artifact_path, safe_local_files
from ember.errors import InvalidInput


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("outputs/model.pkl", "outputs/model.pkl"),
        ("model.pkl", "model.pkl"),
        ("a/./b", "a/b"),
        ("./a/b", "a/b"),
        ("a//b///c", "a/b/c"),
        ("outputs/.hidden", "outputs/.hidden"),
        ("v1.2/model..pkl", "v1.2/model..pkl"),
        ("data/résumé €.csv", "data/résumé €.csv"),
    ],
)
def test_file_paths_are_normalised(given: str, expected: str) -> None:
    assert normalize_artifact_path(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("", ""), (".", ""), ("./", ""), ("plots/", "plots"), ("plots", "plots"), ("a//b/./", "a/b")],
)
def test_directory_prefixes_are_normalised_when_allowed(given: str, expected: str) -> None:
    assert normalize_artifact_path(given, allow_dir=True) == expected


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("", "empty"),
        (".", "names no file"),
        ("..", "'..'"),
        ("../secret", "'..'"),
        ("a/../../etc/passwd", "'..'"),
        ("a/..", "'..'"),
        ("a/.../b", "'...'"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/system32", "absolute"),
        ("c:evil", "absolute"),
        ("s3://bucket/key", "URL"),
        ("a\\b", "backslash"),
        ("..\\..\\x", "backslash"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("a\x1fb", "control"),
        ("a\x7fb", "control"),
        ("a;b", "';'"),
        ("%2e%2e/secret", "'%'"),
        ("%252e%252e/secret", "'%'"),
        ("100%.txt", "'%'"),
        ("outputs/", "trailing '/'"),
        ("x" * 1025, "longer than 1024"),
        ("a/" + "y" * 256, "longer than 255"),
    ],
)
def test_unsafe_paths_are_refused_with_a_message_that_says_why(path: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_artifact_path(path)
    message = caught.value.message
    assert reason in message
    assert "outputs/model.pkl" in message  # tells the user what a valid path looks like
    assert repr(path)[:50] in message


@pytest.mark.parametrize("path", ["../x", "/abs/", "C:/", "a\\b/", "a;b/", "%2e/"])
def test_directory_mode_refuses_the_same_unsafe_paths(path: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_artifact_path(path, allow_dir=True)


def test_the_message_truncates_a_huge_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_artifact_path("../" + "z" * 100_000)
    assert len(caught.value.message) < 400


def test_non_string_paths_are_refused() -> None:
    with pytest.raises(InvalidInput, match="expected a string"):
        normalize_artifact_path(b"a/b")  # type: ignore[arg-type]


def test_new_ids_are_valid_and_distinct() -> None:
    first, second = new_id(), new_id()
    assert is_valid_id(first)
    assert is_valid_id(second)
    assert first != second
    assert check_id(first, "run") == first


@pytest.mark.parametrize(
    "value",
    ["", "abc", uuid.uuid4().hex.upper(), str(uuid.uuid4()), "g" * 32, "a" * 33, "a" * 31 + "\n", 123],
)
def test_values_that_do_not_look_like_ids_are_invalid_input(value: object) -> None:
    assert not is_valid_id(value)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="run id must be 32 hexadecimal characters, got"):
        check_id(value, "run")  # type: ignore[arg-type]


def _write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_folder_is_listed_sorted_with_posix_relative_paths(tmp_path: Path) -> None:
    _write(tmp_path / "b.txt")
    _write(tmp_path / "a" / "z.txt")
    _write(tmp_path / "a.txt")
    _write(tmp_path / "a" / "sub" / "deep.bin")
    (tmp_path / "empty").mkdir()

    listed = list(safe_local_files(tmp_path))

    assert [rel for rel, _ in listed] == ["a.txt", "a/sub/deep.bin", "a/z.txt", "b.txt"]
    for rel, absolute in listed:
        assert absolute.is_absolute()
        assert absolute == tmp_path.resolve() / rel


def test_symlinks_inside_the_folder_are_followed(tmp_path: Path) -> None:
    _write(tmp_path / "data" / "real.csv", "1,2")
    os.symlink(tmp_path / "data" / "real.csv", tmp_path / "alias.csv")
    os.symlink(tmp_path / "data", tmp_path / "data_link")

    listed = dict(safe_local_files(tmp_path))

    assert sorted(listed) == ["alias.csv", "data/real.csv", "data_link/real.csv"]
    assert listed["alias.csv"].read_text() == "1,2"


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_a_symlink_leading_outside_the_folder_is_refused(tmp_path: Path, kind: str) -> None:
    upload = tmp_path / "upload"
    _write(upload / "ok.txt")
    outside = tmp_path / "secrets"
    _write(outside / "id_rsa", "private")
    target = outside / "id_rsa" if kind == "file" else outside
    os.symlink(target, upload / "sneaky")

    with pytest.raises(InvalidInput, match="points outside"):
        list(safe_local_files(upload))


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "a" / "f.txt")
    os.symlink(tmp_path / "a", tmp_path / "a" / "again")

    with pytest.raises(InvalidInput, match="loops"):
        list(safe_local_files(tmp_path))


def test_a_broken_symlink_is_refused_not_skipped(tmp_path: Path) -> None:
    os.symlink(tmp_path / "missing.txt", tmp_path / "dangling")

    with pytest.raises(InvalidInput, match="broken"):
        list(safe_local_files(tmp_path))


def test_a_file_whose_name_is_not_a_valid_artifact_path_is_refused_not_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "report;v2.txt")

    with pytest.raises(InvalidInput, match="';'"):
        list(safe_local_files(tmp_path))


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a folder"):
        list(safe_local_files(tmp_path / "nope"))
