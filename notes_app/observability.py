"""Per-request id, access log line and metrics, in one pure ASGI middleware.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task and a stream copy per request.
"""

import atexit
import itertools
import logging
import logging.handlers
import queue
import re
import secrets
import sys
import time

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes_app.health.metrics import HttpMetrics

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is echoed only when it is short and plain, so it cannot forge log lines or headers.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Requests that matched no route share one label, so scanners cannot blow up metric cardinality.
UNMATCHED_ROUTE = "<unmatched>"

access_log = logging.getLogger("notes_app.access")

# Request ids need to be unique, not unpredictable: a random prefix per process and a counter cost
# far less than a uuid4 (a system call for randomness) on every request.
_REQUEST_ID_PREFIX = secrets.token_hex(8)
_request_counter = itertools.count(1)


def _new_request_id() -> str:
    return f"{_REQUEST_ID_PREFIX}{next(_request_counter):016x}"


class _PreformattedQueueHandler(logging.handlers.QueueHandler):
    """Queues the record as it is: the message is already the finished JSON line, so the copying and
    formatting QueueHandler.prepare does would be wasted on the event loop."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def configure_access_log() -> None:
    """One JSON object per line on stdout. Ours, not uvicorn's access log (run it with
    --no-access-log): uvicorn's shows the raw path and query, which hold ids and search words.

    The event loop only puts records on a queue; a thread writes them. Written inline, a slow or
    full stdout (a pipe nobody reads) would block the loop, and with it every request.
    """
    if access_log.handlers:
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.StreamHandler(sys.stdout)
    writer.setFormatter(logging.Formatter("%(message)s"))
    listener = logging.handlers.QueueListener(records, writer)
    listener.start()
    atexit.register(listener.stop)  # flushes what is queued when the process exits
    access_log.addHandler(_PreformattedQueueHandler(records))
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(route, BaseRoute) and isinstance(path, str) else UNMATCHED_ROUTE


class RequestObservability:
    """Gives every request an id (the client's X-Request-ID if sane, else a new one), sends it back on
    the response, counts and times the request by route template and status, and logs one JSON line
    with method, route, status, duration and id: never the URL's ids, query, headers or body."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = sent_id if _SANE_REQUEST_ID.fullmatch(sent_id) else _new_request_id()
        # scope["state"] is request.state: the 500 handler, which runs outside this middleware, reads it.
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(method=scope["method"], route=route, status=status, seconds=duration)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    orjson.dumps(
                        {
                            "method": scope["method"],
                            "route": route,
                            "status": status,
                            "duration_ms": round(duration * 1000, 3),
                            "request_id": request_id,
                        }
                    ).decode()
                )
