"""``python -m ember …`` behaves exactly like the ``ember`` command."""

from __future__ import annotations

from ember.cli.main import main

if __name__ == "__main__":
    main()
