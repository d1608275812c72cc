"""``python -m ember.server --workspace PATH [--host H] [--port N]``: run the server from a shell."""

from __future__ import annotations

import argparse
import logging
import sys

from ember.errors import EmberError
from ember.server.app import DEFAULT_MAX_ARTIFACT_BYTES
from ember.server.main import serve


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve until interrupted; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m ember.server", description="Serve an Ember workspace.")
    parser.add_argument("--workspace", required=True, help="workspace folder or database URI")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="TCP port (default: 5000)")
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="extra name clients may use in the Host header (repeatable)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument("--access-log", action="store_true", help="log one line per request")
    parser.add_argument(
        "--max-artifact-bytes",
        type=int,
        default=DEFAULT_MAX_ARTIFACT_BYTES,
        help="largest artifact upload accepted (default: 50 GiB)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        serve(
            args.workspace,
            host=args.host,
            port=args.port,
            allowed_hosts=args.allowed_host,
            log_level=args.log_level,
            access_log=args.access_log,
            max_artifact_bytes=args.max_artifact_bytes,
        )
    except EmberError as exc:
        logging.getLogger("ember.server").error("%s", exc.message)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
