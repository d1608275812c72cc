"""``python -m ember.runner <run-id>``: the workspace comes from ``$EMBER_WORKSPACE``."""

from __future__ import annotations

import sys

from ember.runner.runner import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
