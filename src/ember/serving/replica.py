"""``python -m ember.serving.replica``: one scoring replica on a loopback port.

The replica's models are files under ``--model-dir`` laid out as ``<name>/<version>/...``; the process
exports it as ``$EMBER_MODEL_DIR`` so that ``ember.Model.get_model_path(name)`` finds them in ``init()``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ember.serving.scoring import DEFAULT_MAX_BODY_BYTES, EntryScript, MlflowModel, Scorer, create_scoring_app

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ember.serving.replica", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", type=int, help="serve on this TCP port of --host")
    where.add_argument("--uds", help="serve on this Unix socket (how the serving host runs replicas)")
    parser.add_argument("--model-dir", type=Path, required=True, help="models as <name>/<version>/files")
    parser.add_argument("--source-dir", type=Path, help="the entry script's folder")
    parser.add_argument("--entry-script", help="the script with init() and run(raw_data)")
    parser.add_argument(
        "--mlflow-model", help="serve this model (NAME/VERSION under --model-dir) with pyfunc"
    )
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    parser.add_argument("--log-level", default="info")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Serve until terminated; exit 2 on bad arguments."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    os.environ["EMBER_MODEL_DIR"] = str(args.model_dir.resolve())
    scorer: Scorer
    if args.entry_script:
        if args.source_dir is None:
            print("--entry-script needs --source-dir", file=sys.stderr)
            return 2
        scorer = EntryScript(args.source_dir, args.entry_script)
    elif args.mlflow_model:
        scorer = MlflowModel(args.model_dir / args.mlflow_model)
    else:
        print("give --entry-script (with --source-dir) or --mlflow-model", file=sys.stderr)
        return 2
    import uvicorn

    if args.uds:
        _exit_with_parent()
    app = create_scoring_app(scorer, max_body_bytes=args.max_body_bytes)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port or 8000,
        uds=args.uds,
        log_level="warning",
        access_log=False,
        http="httptools" if _has("httptools") else "h11",
        loop="uvloop" if _has("uvloop") else "asyncio",
    )
    return 0


def _exit_with_parent() -> None:
    """End this replica when the serving host that started it is gone (even killed with SIGKILL)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                logging.getLogger("ember.serving.replica").warning("the serving host is gone; stopping")
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(10)
                os._exit(1)

    threading.Thread(target=watch, name="ember-parent-watch", daemon=True).start()


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    sys.exit(main())
