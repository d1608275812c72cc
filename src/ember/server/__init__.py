"""``ember server``: the REST API (``/api/v1``) over a local workspace.

``create_app`` builds the ASGI application around a ``Backend``; ``serve`` opens a workspace and runs it
with uvicorn; ``python -m ember.server --workspace PATH`` does the same from a shell.
"""

from __future__ import annotations

from ember.server.app import create_app
from ember.server.main import serve

__all__ = ["create_app", "serve"]
