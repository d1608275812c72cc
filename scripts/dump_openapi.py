"""Write the server's OpenAPI document to ``studio/openapi.json``, which the studio's types come from.

Usage: ``python scripts/dump_openapi.py [--output PATH | --stdout]`` (``make studio-api`` runs it and then
``npm run gen:api``). The document is built from ``create_app`` over a throwaway local workspace, and
written with sorted keys and a final newline so that it only changes when the API does;
``tests/studio/test_openapi_fresh.py`` fails when the committed file is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "studio" / "openapi.json"


def render_openapi() -> str:
    """The server's OpenAPI document as stable JSON text (sorted keys, two-space indent, final newline)."""
    from ember.server.app import create_app
    from ember.wiring import create_workspace

    with tempfile.TemporaryDirectory(prefix="ember-openapi-") as folder:
        backend = create_workspace(Path(folder) / "ws")
        try:
            document = create_app(backend).openapi()
        finally:
            backend.close()
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or print) the document; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write it")
    parser.add_argument("--stdout", action="store_true", help="print it instead of writing a file")
    args = parser.parse_args(argv)
    text = render_openapi()
    if args.stdout:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
