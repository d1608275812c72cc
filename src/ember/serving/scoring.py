"""The scoring server of one replica: the user's ``init()`` once, ``run()`` per request, over HTTP.

This runs in an isolated replica process (``python -m ember.serving.replica``), never in the Ember server:
it is the only place that imports a user's entry script or loads (unpickles) a model.

- ``POST /score``: the body must be JSON (any other type, pickle above all, is 415), at most
  ``max_body_bytes`` (413). The entry script's ``run(raw_data)`` gets the body as text, as in Azure ML, and
  its return value is sent back as JSON. An MLflow model served without a script takes the pyfunc
  payloads (``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs``) and answers
  ``{"predictions": ...}``.
- A ``ValueError``, ``TypeError``, ``KeyError`` or ``IndexError`` out of ``run()`` is the caller's mistake by
  Python's convention (scikit-learn's "X has 3 features, but ... is expecting 4"): a 400 with the message.
  Any other failure of the user's code is a 500 with a generic message and a request id, which the
  replica's log has with the traceback; the caller sees the exception's message only when it asks for it
  with ``X-Ember-Debug: true``.
- ``GET /healthz`` is liveness (the process answers), ``GET /readyz`` readiness (``init()`` finished);
  ``GET /swagger.json`` describes the scoring call, with the script's ``input_schema`` /
  ``output_schema`` (JSON Schema dicts at module level) when it has them.
- Requests are scored one at a time, so ``run()`` needs no locks. A fast ``run()`` is called on the event
  loop itself: handing each request to a worker thread halved the throughput on two cores (1,900-2,200
  against 4,450-4,500 requests/s for a single-row scikit-learn model). Once a call takes longer than
  ``SLOW_CALL_SECONDS``, the replica moves scoring to a worker thread for good, so that health probes are
  answered while slow requests are scored (only that first slow call holds them up).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
import sys
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "SLOW_CALL_SECONDS",
    "EntryScript",
    "MlflowModel",
    "Scorer",
    "create_scoring_app",
    "to_json",
]

logger = logging.getLogger("ember.serving.scoring")

DEFAULT_MAX_BODY_BYTES = 10 * 2**20
SLOW_CALL_SECONDS = 0.02
_JSON_TYPES = ("application/json", "text/json")


class ScoringInputError(ValueError):
    """The request's payload does not fit the model (a 400, not a failure of the model)."""


class Scorer:
    """What a replica serves: ``load()`` once, then ``score(body)`` per request."""

    name = "model"
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None

    def load(self) -> None:
        """Prepare (load the model); called once before the replica reports ready."""

    def score(self, body: str) -> Any:
        """The answer to one request's JSON body (text)."""
        raise NotImplementedError


class EntryScript(Scorer):
    """A user's entry script with ``init()`` and ``run(raw_data)``, imported from its source folder."""

    def __init__(self, source_dir: Path, entry_script: str) -> None:
        self.source_dir = source_dir.resolve()
        self.path = (self.source_dir / entry_script).resolve()
        if not self.path.is_relative_to(self.source_dir) or not self.path.is_file():
            raise FileNotFoundError(f"entry script {entry_script!r} not found in {self.source_dir}")
        self.name = self.path.stem
        self.module: ModuleType | None = None
        self._run: Callable[[str], Any] | None = None

    def load(self) -> None:
        sys.path.insert(0, str(self.source_dir))
        spec = importlib.util.spec_from_file_location("ember_score", self.path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["ember_score"] = module
        spec.loader.exec_module(module)
        run = getattr(module, "run", None)
        if not callable(run):
            raise TypeError(f"{self.path.name} must define run(raw_data)")
        init = getattr(module, "init", None)
        if callable(init):
            init()
        self.module = module
        self._run = run
        schema = getattr(module, "input_schema", None)
        self.input_schema = schema if isinstance(schema, dict) else None
        schema = getattr(module, "output_schema", None)
        self.output_schema = schema if isinstance(schema, dict) else None

    def score(self, body: str) -> Any:
        assert self._run is not None
        return self._run(body)


class MlflowModel(Scorer):
    """An MLflow-format model folder served with pyfunc semantics (needs mlflow in the environment)."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.name = model_dir.name
        self._model: Any = None

    def load(self) -> None:
        import mlflow.pyfunc

        # Resolved: the host links model folders into place, and MLflow refuses paths that leave them.
        self._model = mlflow.pyfunc.load_model(str(self.model_dir.resolve()))

    def score(self, body: str) -> Any:
        data = pyfunc_input(json.loads(body))
        try:
            return {"predictions": self._model.predict(data)}
        except Exception as exc:
            # MLflow's signature check (a missing column, a wrong type) is the caller's mistake.
            if type(exc).__name__ == "MlflowException" and "schema" in str(exc).lower():
                raise ScoringInputError(
                    f"the input does not fit the model's signature: {exc}"[:1000]
                ) from exc
            raise


def pyfunc_input(payload: Any) -> Any:
    """The model input of an MLflow scoring payload: a DataFrame or an array, as ``mlflow models serve``."""
    if not isinstance(payload, dict) or len(payload) != 1:
        raise ScoringInputError(
            "the payload is a JSON object with one key: "
            "dataframe_split, dataframe_records, instances or inputs"
        )
    ((key, value),) = payload.items()
    import pandas

    if key == "dataframe_split":
        if not isinstance(value, dict) or "data" not in value:
            raise ScoringInputError("dataframe_split needs {'columns': [...], 'data': [[...], ...]}")
        return pandas.DataFrame(value["data"], columns=value.get("columns"), index=value.get("index"))
    if key == "dataframe_records":
        if not isinstance(value, list):
            raise ScoringInputError("dataframe_records is a list of {column: value} objects")
        return pandas.DataFrame.from_records(value)
    if key in ("instances", "inputs"):
        import numpy

        if isinstance(value, dict):
            return {k: numpy.asarray(v) for k, v in value.items()}
        return numpy.asarray(value)
    raise ScoringInputError(
        f"unknown payload key {key!r}: use dataframe_split, dataframe_records, instances or inputs"
    )


def to_json(value: Any) -> Any:
    """A scoring result as JSON values: arrays and frames as lists, non-finite floats as None."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):  # a DataFrame
        return to_json(value.to_dict(orient="records"))
    if hasattr(value, "tolist"):  # numpy arrays and scalars, pandas Series
        return to_json(value.tolist())
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


_INPUT_ERRORS = (ValueError, TypeError, KeyError, IndexError)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _error(status: int, code: str, message: str, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "request_id": request_id}},
        status_code=status,
        headers={"X-Request-Id": request_id},
    )


def create_scoring_app(scorer: Scorer, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Starlette:
    """The replica's ASGI app around a scorer; ``scorer.load()`` runs at startup, on the scoring thread."""
    limiter = anyio.CapacityLimiter(1)
    state = _State()

    async def load() -> None:
        started = time.monotonic()
        try:
            await anyio.to_thread.run_sync(scorer.load, limiter=limiter)
        except Exception as exc:
            state.failed = f"{type(exc).__name__}: {exc}"
            logger.exception("init of %s failed", scorer.name)
            return
        state.ready = True
        logger.info("%s ready in %.3f s", scorer.name, time.monotonic() - started)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Loading runs beside serving, so /healthz answers (alive) while a big model loads.
        async with anyio.create_task_group() as group:
            group.start_soon(load)
            yield
            group.cancel_scope.cancel()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        if state.ready:
            return JSONResponse({"status": "ready"})
        failed = state.failed
        return JSONResponse({"status": "failed" if failed else "starting", "error": failed}, status_code=503)

    async def score(request: Request) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        if not state.ready:
            return _error(503, "not_ready", "the model is not loaded yet (or failed to load)", request_id)
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in _JSON_TYPES:
            return _error(
                415,
                "unsupported_media_type",
                f"send JSON (Content-Type: application/json), not {media or 'nothing'!r}",
                request_id,
            )
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            return _error(
                413, "payload_too_large", f"the body is larger than {max_body_bytes} bytes", request_id
            )
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body_bytes:
                return _error(
                    413, "payload_too_large", f"the body is larger than {max_body_bytes} bytes", request_id
                )
        try:
            text = body.decode("utf-8")
            json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            return _error(400, "invalid_input", f"the body is not valid JSON: {exc}", request_id)
        try:
            if state.threaded:
                result = await anyio.to_thread.run_sync(scorer.score, text, limiter=limiter)
            else:
                began = time.perf_counter()
                result = scorer.score(text)
                if time.perf_counter() - began > SLOW_CALL_SECONDS:
                    state.threaded = True
                    logger.info(
                        "%s: run() took over %.0f ms; scoring moves to a worker thread",
                        scorer.name,
                        1000 * SLOW_CALL_SECONDS,
                    )
            answer = json.dumps(to_json(result), allow_nan=False)
        except ScoringInputError as exc:
            return _error(400, "invalid_input", str(exc), request_id)
        except _INPUT_ERRORS as exc:
            # Python's convention for a bad argument (scikit-learn's wrong number of features, a missing
            # key): the caller's mistake, so a 4xx that says what is wrong.
            logger.info("request %s refused by %s: %s: %s", request_id, scorer.name, type(exc).__name__, exc)
            return _error(
                400, "invalid_input", f"the input does not fit the model: {_describe(exc)}", request_id
            )
        except Exception as exc:
            logger.error("request %s failed in %s:\n%s", request_id, scorer.name, traceback.format_exc())
            debug = request.headers.get("x-ember-debug", "").lower() in ("1", "true", "yes")
            message = (
                f"{type(exc).__name__}: {exc}"
                if debug
                else "the scoring script failed; see the deployment's logs"
            )
            return _error(500, "scoring_error", message, request_id)
        return Response(answer, media_type="application/json", headers={"X-Request-Id": request_id})

    async def swagger(request: Request) -> Response:
        return JSONResponse(openapi_document(scorer))

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/score", score, methods=["POST"]),
        Route("/swagger.json", swagger, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


class _State:
    ready = False
    failed: str | None = None
    threaded = False  # score on a worker thread (after a slow call) rather than on the event loop


def openapi_document(scorer: Scorer) -> dict[str, Any]:
    """An OpenAPI document of the scoring call, with the script's schemas when it declares them."""
    request_schema = scorer.input_schema or {"description": "any JSON the entry script's run() accepts"}
    response_schema = scorer.output_schema or {"description": "what run() returns, as JSON"}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{scorer.name} scoring", "version": "1"},
        "paths": {
            "/score": {
                "post": {
                    "summary": "Score a request",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": request_schema}},
                    },
                    "responses": {
                        "200": {
                            "description": "The result",
                            "content": {"application/json": {"schema": response_schema}},
                        },
                        "400": {"description": "The body is not valid JSON or does not fit the model"},
                        "413": {"description": "The body is too large"},
                        "415": {"description": "The body is not JSON"},
                        "500": {
                            "description": "The scoring script failed (a request id names it in the logs)"
                        },
                    },
                }
            }
        },
    }
