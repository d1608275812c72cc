"""``python -m ember.hosting``: serve the endpoints of the workspace in ``$EMBER_WORKSPACE``.

Started detached by the workspace (a deploy, ``ember server``), or in the foreground by a service
manager (systemd) as ``EMBER_WORKSPACE=... python -m ember.hosting``.
"""

from __future__ import annotations

import logging
import os
import sys

from ember.errors import EmberError


def main() -> int:
    """Serve until stopped."""
    logging.basicConfig(
        level=os.environ.get("EMBER_SERVING_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    target = os.environ.get("EMBER_WORKSPACE")
    if not target:
        print("set EMBER_WORKSPACE to the workspace (a folder or database URI)", file=sys.stderr)
        return 2
    from ember.hosting.host import ServingHost
    from ember.wiring import open_backend

    try:
        backend = open_backend(target, artifact_uri=os.environ.get("EMBER_ARTIFACT_URI"))
    except EmberError as exc:
        print(f"cannot open the workspace: {exc}", file=sys.stderr)
        return 1
    try:
        if backend.kind != "local":
            print("the serving host needs a local workspace (a folder or database URI)", file=sys.stderr)
            return 2
        return ServingHost(backend).run()
    finally:
        backend.close()


if __name__ == "__main__":
    sys.exit(main())
