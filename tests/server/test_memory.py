"""A 1 GB artifact passes through the server without the server ever holding it in memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ember.entities import RunCreate
from ember.wiring import open_backend
from support.server_harness import ServerProcess

GiB = 1 << 30
CHUNK = 1 << 20
PEAK_RSS_LIMIT = 300 * (1 << 20)


def _peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory, in bytes (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


def _generated(total: int) -> Iterator[bytes]:
    # Every chunk differs, so no layer can get away with storing one chunk and a count.
    for index in range(total // CHUNK):
        yield index.to_bytes(8, "little") * (CHUNK // 8)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc (Linux)")
def test_a_1_gb_upload_and_download_stay_under_300_mb_of_server_memory(server_process: ServerProcess) -> None:
    expected = hashlib.sha256()
    for chunk in _generated(GiB):
        expected.update(chunk)
    with open_backend(server_process.url) as remote:
        tracking = remote.tracking
        run = tracking.create_run(RunCreate(experiment_id=tracking.get_or_create_experiment("big").id))

        stored = tracking.upload_artifact(run.info.id, "data/big.bin", _generated(GiB))
        after_upload = _peak_rss(server_process.process.pid)
        _, body = tracking.open_artifact(run.info.id, "data/big.bin")
        received = hashlib.sha256()
        size = 0
        for chunk in body:
            received.update(chunk)
            size += len(chunk)
    after_download = _peak_rss(server_process.process.pid)

    assert (stored.size, stored.digest) == (GiB, expected.hexdigest())
    assert (size, received.hexdigest()) == (GiB, expected.hexdigest())
    assert after_upload < PEAK_RSS_LIMIT, f"server peaked at {after_upload / 2**20:.0f} MiB during the upload"
    assert after_download < PEAK_RSS_LIMIT, f"server peaked at {after_download / 2**20:.0f} MiB in all"
