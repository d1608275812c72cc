"""The git state of a run's source directory: repository, branch, commit and whether it was dirty."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess

__all__ = ["GIT_TIMEOUT_S", "git_info", "strip_credentials"]

logger = logging.getLogger(__name__)

GIT_TIMEOUT_S = 10.0
# "scheme://userinfo@host/...": the userinfo of an http(s) URL is often a token, so all of it goes.
_URL_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@]*)@")


def strip_credentials(url: str) -> str:
    """Return a remote URL without its password, and without any user name for http(s) and ftp URLs.

    ``https://user:token@host/repo.git`` becomes ``https://host/repo.git``; ``ssh://git:pw@host/repo``
    becomes ``ssh://git@host/repo``; scp-like ``git@host:org/repo.git`` and local paths are unchanged.
    """
    match = _URL_USERINFO.match(url)
    if match is None:
        return url
    scheme, user = match["scheme"], match["user"].split(":", 1)[0]
    kept = "" if scheme.lower().rstrip(":/") in {"http", "https", "ftp", "ftps"} or not user else f"{user}@"
    return f"{scheme}{kept}{url[match.end() :]}"


def _git(git: str, cwd: str, *args: str) -> str | None:
    """Run one git command; its stripped stdout, or None when it fails or times out."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    # core.fsmonitor would run a program named by the repository's own config: never from here.
    command = [git, "-c", "core.fsmonitor=false", *args]
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.debug("git %s in %s failed: %s", " ".join(args), cwd, exc)
        return None
    if done.returncode != 0:
        logger.debug("git %s in %s exited %d: %s", " ".join(args), cwd, done.returncode, done.stderr.strip())
        return None
    return done.stdout.strip()


def git_info(source_dir: str | os.PathLike[str]) -> dict[str, str | bool] | None:
    """Describe the git work tree holding ``source_dir``, for the run's record.

    Args:
        source_dir: The run's source directory.

    Returns:
        ``{"repository", "branch", "commit", "dirty"}``: the ``origin`` remote's URL without credentials
        (or the work tree's path when there is no such remote), the branch (``""`` when HEAD is
        detached), the commit (``""`` before the first commit), and whether tracked files differ from
        the commit or untracked files exist. None when git is not installed, ``source_dir`` is not in
        a work tree, or git does not answer in time.
    """
    git = shutil.which("git")
    directory = os.fspath(source_dir)
    if git is None or not os.path.isdir(directory):
        return None
    top = _git(git, directory, "rev-parse", "--show-toplevel")
    if not top:
        return None
    status = _git(git, directory, "status", "--porcelain", "--untracked-files=normal")
    if status is None:
        return None
    remote = _git(git, directory, "config", "--get", "remote.origin.url")
    return {
        "repository": strip_credentials(remote) if remote else top,
        "branch": _git(git, directory, "symbolic-ref", "--short", "-q", "HEAD") or "",
        "commit": _git(git, directory, "rev-parse", "--verify", "-q", "HEAD") or "",
        "dirty": bool(status),
    }
