"""Build and cache one virtualenv per environment spec with uv, and hand back its interpreter.

Layout under the cache root::

    <root>/<key>/            a finished environment (``<key>/.ember-ready`` holds the spec as JSON)
    <root>/<key>.lock        cross-process lock: one process builds a given environment at a time
    <root>/<key>.tmp-<uuid>  a build in progress, renamed to ``<key>`` only once it is complete

``key`` is 16 hex digits of the sha256 of the spec's build-relevant part (Python version and pip
requirements; environment variables are applied at run time and do not cause a rebuild) plus the
identity of the Ember installation that built it (see ``EnvironmentCache.key``).

How code in a built environment imports Ember: the environment holds no copy of Ember. A ``.pth``
file in its site-packages appends the directory that holds the running ``ember`` package and then
the running interpreter's site-packages, so ``import ember`` and Ember's dependencies resolve from
the installation that built it, while packages installed in the environment come first on
``sys.path`` and shadow the parent's versions. When the environment's Python minor version differs
from the running one, the parent's compiled packages cannot be shared: the ``ember`` package is
linked into the environment's site-packages instead and Ember's runtime requirements are installed
into it with the user's requirements.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import signal
import site
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from filelock import FileLock, Timeout
from packaging.requirements import Requirement

from ember.entities.environment_spec import EnvironmentSpec, pin_python, spec_hash
from ember.errors import EmberError

__all__ = [
    "READY_MARKER",
    "EnvironmentBuildCanceled",
    "EnvironmentBuildError",
    "EnvironmentCache",
    "default_cache_root",
]

_LOG = logging.getLogger(__name__)

READY_MARKER = ".ember-ready"
_PTH_NAME = "ember-runtime.pth"
_DISTRIBUTION = "ember-ml"
_TAIL_LINES = 25
_BUILD_FORMAT = 2  # part of the cache key: 2 = packages installed with their bytecode compiled
_WATCH_INTERVAL = 0.1  # how soon a build notices a cancel or its deadline
# src/ember/environments/materialize.py -> the directory that holds the `ember` package.
_EMBER_PACKAGE = Path(__file__).resolve().parents[1]
_EMBER_ROOT = _EMBER_PACKAGE.parent

LogCallback = Callable[[str], None]


def default_cache_root() -> Path:
    """Where built environments are cached: ``$EMBER_ENV_CACHE``, else ``~/.cache/ember/envs``."""
    configured = os.environ.get("EMBER_ENV_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "ember" / "envs"


class EnvironmentBuildError(EmberError):
    """An environment could not be built: the installer's own last lines say why."""

    code = "environment_build_failed"
    http_status = 400


class EnvironmentBuildCanceled(EnvironmentBuildError):
    """The run that asked for the environment was canceled while it was being built (nothing is kept)."""

    code = "environment_build_canceled"


class EnvironmentCache:
    """Virtualenvs built with uv, one per environment spec, shared by every process using ``root``.

    Args:
        root: The cache folder, e.g. ``~/.cache/ember/envs`` or ``<workspace>/.envs``; created on
            first build.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(Path(root).expanduser()))

    def key(self, spec: EnvironmentSpec) -> str:
        """The folder name of ``spec``'s environment under the cache root.

        Two specs share an environment when they pin the same Python version and requirements;
        environment variables are left out since they do not change what is installed. The running
        interpreter's prefix and Ember's location are part of the key because the environment links
        to them (see the module docstring): two Ember installations never share an environment.
        """
        build = pin_python(spec).model_copy(update={"env_vars": {}, "inherit_current": False})
        host = json.dumps([os.path.realpath(sys.prefix), str(_EMBER_ROOT)])
        return hashlib.sha256(f"{spec_hash(build)}\n{host}\n{_BUILD_FORMAT}".encode()).hexdigest()[:16]

    def path_for(self, spec: EnvironmentSpec) -> Path:
        """Where ``spec``'s environment lives (or will live) under the cache root."""
        return self.root / self.key(spec)

    def python_for(
        self,
        spec: EnvironmentSpec,
        *,
        log: LogCallback | None = None,
        timeout: float = 1800,
        cancel: threading.Event | None = None,
    ) -> Path:
        """The Python executable to run code in ``spec``, building its environment on first use.

        A ready environment costs one ``stat``. Otherwise the builder takes the environment's
        cross-process lock, so concurrent callers asking for the same new environment build it once:
        the others wait, then use it.

        Args:
            spec: The environment; ``inherit_current`` returns this interpreter and builds nothing.
            log: Receives every line of build output as it comes (for the run's build log).
            timeout: Seconds to wait for another builder and to build, together.
            cancel: Once set, the wait or the build stops within a fraction of a second (the
                installer's whole process group is killed) and ``EnvironmentBuildCanceled`` is raised.

        Returns:
            The environment's ``python`` executable.

        Raises:
            EnvironmentBuildError: uv failed (its last lines are in the message) or ``timeout`` passed;
                no partial environment is left behind.
            EnvironmentBuildCanceled: ``cancel`` was set.
        """
        if spec.inherit_current:
            return Path(sys.executable)
        spec = pin_python(spec)
        env_dir = self.path_for(spec)
        if (env_dir / READY_MARKER).exists():
            return _python_in(env_dir)
        emit = _emitter(log)
        deadline = time.monotonic() + timeout
        self.root.mkdir(parents=True, exist_ok=True)
        cancel = cancel if cancel is not None else threading.Event()
        lock = self._lock_for(env_dir.name)
        with _Lock(lock, name=env_dir.name, emit=emit, timeout=timeout, cancel=cancel):
            if (env_dir / READY_MARKER).exists():
                emit(f"environment {env_dir.name} was built by another process")
                return _python_in(env_dir)
            return self._build(spec, env_dir, emit=emit, deadline=deadline, cancel=cancel)

    def remove(self, spec: EnvironmentSpec) -> bool:
        """Delete ``spec``'s environment; returns whether there was one. Runs using it will break."""
        env_dir = self.path_for(spec)
        if not env_dir.exists():
            return False
        lock = _Lock(self._lock_for(env_dir.name), name=env_dir.name, emit=_emitter(None), timeout=60)
        with lock:
            if not env_dir.exists():
                return False
            doomed = self.root / f"{env_dir.name}.tmp-{uuid.uuid4().hex}"
            env_dir.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        return True

    def list_environments(self) -> list[tuple[Path, EnvironmentSpec]]:
        """Every ready environment in the cache with the spec it was built for."""
        found: list[tuple[Path, EnvironmentSpec]] = []
        if not self.root.is_dir():
            return found
        for marker in sorted(self.root.glob(f"*/{READY_MARKER}")):
            try:
                info = json.loads(marker.read_text(encoding="utf-8"))
                found.append((marker.parent, EnvironmentSpec.model_validate(info["spec"])))
            except (OSError, ValueError, KeyError, EmberError):
                _LOG.warning("ignoring unreadable environment marker %s", marker)
        return found

    def _lock_for(self, name: str) -> FileLock:
        return FileLock(str(self.root / f"{name}.lock"))

    def _build(
        self,
        spec: EnvironmentSpec,
        env_dir: Path,
        *,
        emit: LogCallback,
        deadline: float,
        cancel: threading.Event,
    ) -> Path:
        # We hold the lock: leftovers of a builder that died (killed, machine lost) are garbage.
        for stale in self.root.glob(f"{env_dir.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if env_dir.exists():
            shutil.rmtree(env_dir)
        tmp = self.root / f"{env_dir.name}.tmp-{uuid.uuid4().hex}"
        started = time.monotonic()
        emit(f"building environment {env_dir.name}: python {spec.python}, {len(spec.pip)} requirement(s)")
        try:
            uv = _uv_binary()
            self._run(
                [uv, "venv", "--relocatable", "--no-project", "--python", _interpreter(spec), str(tmp)],
                emit=emit,
                deadline=deadline,
                cancel=cancel,
            )
            version = _venv_version(tmp)
            same_abi = version[:2] == sys.version_info[:2]
            requirements = list(spec.pip) if same_abi else [*spec.pip, *_ember_requirements()]
            if requirements:
                self._run(
                    # Compiled now, once: the interpreters that use the environment may not be allowed to
                    # write bytecode ($PYTHONDONTWRITEBYTECODE, a read-only cache), and compiling numpy,
                    # scipy and scikit-learn on every start cost a replica over a second.
                    [
                        uv,
                        "pip",
                        "install",
                        "--compile-bytecode",
                        "--python",
                        str(_python_in(tmp)),
                        *requirements,
                    ],
                    emit=emit,
                    deadline=deadline,
                    cancel=cancel,
                )
            _link_ember(_site_packages(tmp), same_abi=same_abi)
            seconds = round(time.monotonic() - started, 3)
            marker = {
                "spec": spec.model_dump(mode="json"),
                "spec_hash": spec_hash(spec),
                "python_version": ".".join(map(str, version)),
                "built_at": datetime.now(UTC).isoformat(),
                "build_seconds": seconds,
                "ember_root": str(_EMBER_ROOT),
            }
            (tmp / READY_MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
            tmp.rename(env_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        emit(f"environment {env_dir.name} ready in {seconds:.1f} s")
        _LOG.info("built environment %s in %.1f s", env_dir, seconds)
        return _python_in(env_dir)

    def _run(
        self, command: list[str], *, emit: LogCallback, deadline: float, cancel: threading.Event
    ) -> None:
        shown = " ".join(shlex.quote(a) for a in ["uv", *command[1:]])
        step = " ".join(["uv", *command[1:3]])
        if cancel.is_set():
            raise EnvironmentBuildCanceled(f"building the environment was canceled before `{step}`")
        emit(f"$ {shown}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EnvironmentBuildError(f"building the environment timed out before `{step}` started")
        env = {**os.environ, "UV_NO_PROGRESS": "1"}
        tail: deque[str] = deque(maxlen=_TAIL_LINES)
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            cwd=self.root,
            start_new_session=True,  # uv starts build backends: a kill must reach them too
        )
        timed_out, finished = threading.Event(), threading.Event()

        def _watch() -> None:  # the deadline and a cancel, checked while the output is read
            while not finished.wait(_WATCH_INTERVAL):
                if time.monotonic() >= deadline:
                    timed_out.set()
                elif not cancel.is_set():
                    continue
                _kill_group(proc)
                return

        watcher = threading.Thread(target=_watch, name="ember-env-build-watch", daemon=True)
        watcher.start()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\r\n")
                tail.append(line)
                emit(line)
            code = proc.wait()
        finally:
            finished.set()
            if proc.poll() is None:
                _kill_group(proc)
                proc.wait()
            watcher.join()
        if cancel.is_set() and not timed_out.is_set() and code != 0:
            raise EnvironmentBuildCanceled(f"building the environment was canceled during `{step}`")
        if timed_out.is_set():
            raise EnvironmentBuildError(
                f"building the environment timed out during `{step}`; "
                "raise the timeout or trim the requirements",
                details={"step": step, "log_tail": list(tail)},
            )
        if code != 0:
            last = "\n".join(tail)
            raise EnvironmentBuildError(
                f"building the environment failed: `{step}` exited with {code}:\n{last}\n"
                "Check the Python version and the package names and versions in the environment.",
                details={"step": step, "exit_code": code, "log_tail": list(tail)},
            )


class _Lock:
    """The environment's file lock, saying in the build log when it has to wait for another builder."""

    def __init__(
        self,
        lock: FileLock,
        *,
        name: str,
        emit: LogCallback,
        timeout: float,
        cancel: threading.Event | None = None,
    ) -> None:
        self._lock = lock
        self._name = name
        self._emit = emit
        self._timeout = timeout
        self._cancel = cancel if cancel is not None else threading.Event()

    def __enter__(self) -> None:
        try:
            self._lock.acquire(timeout=0)
            return
        except Timeout:
            self._emit(f"waiting for another process building environment {self._name}")
        deadline = time.monotonic() + max(self._timeout, 0)
        while True:
            if self._cancel.is_set():
                raise EnvironmentBuildCanceled(
                    f"canceled while waiting for another process to build environment {self._name}"
                )
            try:
                self._lock.acquire(timeout=max(0, min(_WATCH_INTERVAL, deadline - time.monotonic())))
                return
            except Timeout:
                if time.monotonic() < deadline:
                    continue
            raise EnvironmentBuildError(
                f"gave up after {self._timeout:.0f} s waiting for another process to build environment "
                f"{self._name}; try again, or remove {self._lock.lock_file} if no build is running"
            ) from None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # already gone
        pass
    except PermissionError:
        proc.kill()


def _emitter(log: LogCallback | None) -> LogCallback:
    def emit(line: str) -> None:
        _LOG.debug("%s", line)
        if log is not None:
            log(line)

    return emit


def _uv_binary() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:  # pragma: no cover - uv is a declared dependency
        found = shutil.which("uv")
    else:
        try:
            found = find_uv_bin()
        except FileNotFoundError:
            found = shutil.which("uv")
    if not found:
        raise EnvironmentBuildError("uv is not installed; `pip install uv` in Ember's environment")
    return str(found)


def _interpreter(spec: EnvironmentSpec) -> str:
    """This interpreter when it satisfies the spec (so the parent's packages are ABI-compatible)."""
    assert spec.python is not None
    wanted = tuple(int(p) for p in spec.python.split("."))
    if wanted == tuple(sys.version_info[: len(wanted)]):
        return sys.executable
    return spec.python


def _python_in(env_dir: Path) -> Path:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def _site_packages(env_dir: Path) -> Path:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        return env_dir / "Lib" / "site-packages"
    found = sorted(env_dir.glob("lib/python3*/site-packages"))
    if len(found) != 1:
        raise EnvironmentBuildError(f"could not find the site-packages of the new environment in {env_dir}")
    return found[0]


def _venv_version(env_dir: Path) -> tuple[int, ...]:
    for line in (env_dir / "pyvenv.cfg").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() in {"version_info", "version"}:
            return tuple(int(p) for p in value.strip().split(".")[:3] if p.isdigit())
    raise EnvironmentBuildError(f"the new environment's pyvenv.cfg in {env_dir} names no Python version")


def _parent_site_packages() -> Iterator[Path]:
    for entry in site.getsitepackages():
        path = Path(entry)
        if path.is_dir():
            yield path


def _link_ember(site_packages: Path, *, same_abi: bool) -> None:
    """Make ``ember`` (and, for the same Python minor, its dependencies) importable in the environment."""
    if same_abi:
        lines = [str(_EMBER_ROOT)]
        # addsitedir (not a bare path) so the parent's own .pth files (editable installs) apply too.
        lines += [f"import site; site.addsitedir({str(p)!r})" for p in _parent_site_packages()]
        (site_packages / _PTH_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    # Another Python minor cannot load the parent's compiled packages; Ember itself is pure Python.
    target = site_packages / "ember"
    try:
        target.symlink_to(_EMBER_PACKAGE, target_is_directory=True)
    except OSError:
        shutil.copytree(_EMBER_PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__"))


def _ember_requirements() -> list[str]:
    """Ember's own runtime requirements (no extras), for environments on another Python minor."""
    try:
        declared = metadata.requires(_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        _LOG.warning("%s is not an installed distribution; its dependencies are not installed", _DISTRIBUTION)
        return []
    return [r for r in declared if Requirement(r).marker is None or "extra" not in str(Requirement(r).marker)]
