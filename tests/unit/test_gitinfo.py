"""A run records the git state of the code it was submitted from, without leaking credentials."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ember.jobs.gitinfo import git_info, strip_credentials

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=Ember Test", "-c", "user.email=test@example.com"]
    command += ["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args]
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither the developer's git config nor a repository above tmp_path may change the answers.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "train.py").write_text("print('hi')\n")
    (root / "src").mkdir()
    (root / "src" / "model.py").write_text("")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    return root


def test_a_clean_checkout_reports_branch_commit_and_path(repo: Path) -> None:
    info = git_info(repo)

    assert info == {
        "repository": str(repo.resolve()),
        "branch": "main",
        "commit": _git(repo, "rev-parse", "HEAD"),
        "dirty": False,
    }


def test_a_subfolder_of_the_work_tree_reports_the_same_repository(repo: Path) -> None:
    info = git_info(repo / "src")

    assert info is not None
    assert info["repository"] == str(repo.resolve())
    assert info["commit"] == _git(repo, "rev-parse", "HEAD")


def test_an_edited_tracked_file_makes_it_dirty(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")

    info = git_info(repo)

    assert info is not None
    assert info["dirty"] is True


def test_an_untracked_file_makes_it_dirty_but_an_ignored_one_does_not(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.log\n")
    _git(repo, "add", ".gitignore")
    _git(repo, "commit", "-q", "-m", "ignore logs")
    (repo / "debug.log").write_text("")

    clean = git_info(repo)
    (repo / "notes.py").write_text("")
    dirty = git_info(repo)

    assert clean is not None
    assert clean["dirty"] is False
    assert dirty is not None
    assert dirty["dirty"] is True


def test_the_origin_remote_is_reported_without_credentials(repo: Path) -> None:
    _git(repo, "remote", "add", "origin", "https://alice:s3cret@example.com/team/project.git")

    info = git_info(repo)

    assert info is not None
    assert info["repository"] == "https://example.com/team/project.git"
    assert all("s3cret" not in str(value) and "alice" not in str(value) for value in info.values())


def test_a_detached_head_has_no_branch(repo: Path) -> None:
    commit = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "--detach", commit)

    info = git_info(repo)

    assert info is not None
    assert info["branch"] == ""
    assert info["commit"] == commit


def test_a_repository_without_commits_has_no_commit(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    _git(root, "init", "-q")

    info = git_info(root)

    assert info is not None
    assert info["commit"] == ""
    assert info["branch"] == "main"


def test_a_folder_outside_any_repository_has_no_git_info(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()

    assert git_info(plain) is None
    assert git_info(tmp_path / "missing") is None


def test_without_git_installed_there_is_no_git_info(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-such-bin"))

    assert git_info(repo) is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pass@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("http://u:p@host:8080/r", "http://host:8080/r"),
        ("ssh://git:pw@host/repo.git", "ssh://git@host/repo.git"),
        ("ssh://git@host/repo.git", "ssh://git@host/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
    ],
)
def test_credentials_are_stripped_from_remote_urls(url: str, shown: str) -> None:
    assert strip_credentials(url) == shown
