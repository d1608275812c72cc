"""Serving the studio, the web app built from ``studio/`` into ``studio_dist/`` next to this module.

- ``/assets/<file>``: Vite's hashed bundles, cached for a year (a new build gets new names);
- ``/<file>`` at the top of the build (``favicon.svg``): revalidated on every use;
- any other GET path outside ``/api/``: ``index.html``, so deep links (``/runs/abc``) load the app,
  which routes in the browser. ``/api/...`` never reaches these routes: an unknown API path stays a
  JSON 404 and a wrong method on an API path a 405.

Without a build, every page answers 503 with a short HTML page that says how to build the studio:
503 rather than 200 because the app is not there (a health check or script probing ``/`` sees it;
nothing caches it), while a browser still shows the page.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

__all__ = ["STUDIO_CSP", "STUDIO_DIST", "studio_routes"]

# $EMBER_STUDIO_DIR serves another build (a customised studio, or a developer's build in a temp folder).
STUDIO_DIST = Path(os.environ.get("EMBER_STUDIO_DIR") or Path(__file__).resolve().parent / "studio_dist")

# Everything the app loads comes from this server: no remote origin, no inline script or style.
STUDIO_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# The missing-build page is self-contained: its one inline style block, nothing else.
_MISSING_BUILD_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"

_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"
# Explicit types for what a Vite build holds: the platform's mime table varies (and nosniff is on).
_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}

_MISSING_BUILD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ember studio is not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem;
       line-height: 1.5; color-scheme: light dark }
pre { padding: .75rem 1rem; border-radius: 6px; background: rgb(127 127 127 / 15%) }
</style></head>
<body>
<h1>The Ember studio is not built</h1>
<p>This server answers the REST API under <a href="/api/v1/docs">/api/v1/docs</a>, but the web
studio's files are missing from this installation (<code>ember/server/studio_dist/</code>).</p>
<p>Build it from a checkout of Ember (needs Node.js 20+), then reload this page:</p>
<pre>make studio</pre>
<p>or</p>
<pre>cd studio &amp;&amp; npm ci &amp;&amp; npm run build</pre>
</body></html>
"""


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class _StudioRoute(Route):
    """A route that never matches ``/api/...``, so API paths keep the API's own 404 and 405 answers."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and _is_api(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def _content_type(path: Path) -> str:
    known = _CONTENT_TYPES.get(path.suffix.lower())
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _safe_file(folder: Path, relative: str) -> Path | None:
    """The file ``relative`` names inside ``folder``, or None for anything that could leave it."""
    parts = relative.split("/")
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    root = folder.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _file(path: Path, cache_control: str) -> FileResponse:
    return FileResponse(path, media_type=_content_type(path), headers={"Cache-Control": cache_control})


def _accepts_gzip(header: str) -> bool:
    for token in header.split(","):
        coding, _, params = token.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _asset(request: Request, path: Path) -> FileResponse:
    """An asset, gzipped when the build holds a ``.gz`` of it and the browser accepts gzip."""
    headers = {"Cache-Control": _IMMUTABLE, "Vary": "Accept-Encoding"}
    packed = path.with_name(path.name + ".gz")
    if _accepts_gzip(request.headers.get("accept-encoding", "")) and packed.is_file():
        headers["Content-Encoding"] = "gzip"
        return FileResponse(packed, media_type=_content_type(path), headers=headers)
    return FileResponse(path, media_type=_content_type(path), headers=headers)


def _index(dist: Path) -> Response:
    index = dist / "index.html"
    if not index.is_file():
        # The page does not name the folder: a server on the network need not tell where it is installed.
        page = _MISSING_BUILD
        headers = {"Content-Security-Policy": _MISSING_BUILD_CSP, "Cache-Control": "no-store"}
        return HTMLResponse(page, status_code=503, headers=headers)
    headers = {"Content-Security-Policy": STUDIO_CSP, "Cache-Control": _REVALIDATE}
    return FileResponse(index, media_type=_CONTENT_TYPES[".html"], headers=headers)


def studio_routes(dist: Path = STUDIO_DIST) -> list[Route]:
    """The routes that serve the studio built into ``dist``; add them after every other route."""

    def asset(request: Request) -> Response:
        relative: str = request.path_params["path"]
        found = _safe_file(dist / "assets", relative)
        if found is None:
            raise HTTPException(404, f"no studio asset {relative[:200]!r}; rebuild the studio (make studio)")
        return _asset(request, found)

    def page(request: Request) -> Response:
        relative: str = request.path_params["path"]
        if relative and "/" not in relative and relative != "index.html":
            found = _safe_file(dist, relative)
            if found is not None:
                return _file(found, _REVALIDATE)
        return _index(dist)

    methods: Any = ["GET", "HEAD"]
    return [
        _StudioRoute("/assets/{path:path}", asset, methods=methods, include_in_schema=False),
        _StudioRoute("/{path:path}", page, methods=methods, include_in_schema=False),
    ]
