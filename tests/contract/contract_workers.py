"""Functions run in child processes by the concurrency tests (spawned: importable, few imports)."""

from __future__ import annotations


def log_points(location: str, artifact_uri: str | None, run_id: str, worker: int, points: int) -> int:
    """Open the workspace afresh, log ``points`` values to one run with ``run.log`` and flush."""
    import ember

    ws = ember.Workspace.get(location, artifact_uri=artifact_uri)
    try:
        run = ws.get_run(run_id)
        for i in range(points):
            run.log("shared", float(worker * 1_000_000 + i))
            run.log(f"worker_{worker}", float(i), step=i)
        run.flush()
    finally:
        ws.close()
    return points


def get_or_create(location: str, artifact_uri: str | None, name: str) -> str:
    """Get or create the experiment ``name`` and return its id."""
    import ember

    ws = ember.Workspace.get(location, artifact_uri=artifact_uri)
    try:
        return ember.Experiment(ws, name).id
    finally:
        ws.close()
