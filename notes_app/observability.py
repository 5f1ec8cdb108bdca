"""Per-request id, access log line and metrics, in one pure ASGI middleware.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, which costs a task and a stream copy per request.
"""

import atexit
import itertools
import logging
import os
import re
import secrets
import sys
import threading
import time
from collections import deque
from typing import BinaryIO

import orjson
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes_app.health.metrics import HttpMetrics

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.lower().encode("latin-1")  # as ASGI spells it
# A client's id is echoed only when it is short and plain, so it cannot forge log lines or headers.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Requests that matched no route share one label, so scanners cannot blow up metric cardinality.
UNMATCHED_ROUTE = "<unmatched>"

# Request ids need to be unique, not unpredictable: a random prefix per process and a counter cost
# far less than a uuid4 (a system call for randomness) on every request.
_REQUEST_ID_PREFIX = secrets.token_hex(8)
_request_counter = itertools.count(1)

# Lines gathered while stdout does not take them: some seconds of a busy worker's requests, ~10 MB.
MAX_GATHERED_LINES = 50_000
# How long the exit waits for the last lines to be written.
STOP_WAIT_SECONDS = 2.0

_logger = logging.getLogger(__name__)


def _new_request_id() -> str:
    return f"{_REQUEST_ID_PREFIX}{next(_request_counter):016x}"


class AccessLog:
    """One JSON object per line, written to a stream by a thread, many lines per write.

    Ours, not uvicorn's access log (run it with --no-access-log): uvicorn's shows the raw path and
    query, which hold ids and search words. The event loop only appends the finished line to a deque;
    the thread writes what has gathered every `interval` seconds. Written inline, a slow or full
    stdout (a pipe nobody reads) would block the loop, and with it every request. It bypasses the
    logging module, which cost ~15% of GET throughput (bench/RESULTS.md): a LogRecord per request
    (caller frame lookup, pid, thread name), a handler lock, and a write and flush per line in a thread
    that took the GIL from the event loop on every request.

    A stdout that stays blocked costs at most `max_lines` lines of memory: beyond them the oldest are
    dropped, and counted in a warning (logging, on stderr) once the writer gets going again.
    """

    def __init__(self, *, interval: float = 0.1, max_lines: int = MAX_GATHERED_LINES) -> None:
        self.stream: BinaryIO | None = None  # None: not started, nothing is logged
        self._interval = interval
        # deque.append and popleft are safe across threads without a lock.
        self._lines: deque[bytes] = deque(maxlen=max_lines)
        # Lines dropped, counted by the event loop only; the writer only reads it, and keeps its own
        # count of those it reported: one writer per number, so no lock.
        self._dropped = 0
        self._reported = 0
        self._flushing = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, stream: BinaryIO) -> None:
        if self.stream is not None:
            return
        self.stream = stream
        self._start_writer()
        atexit.register(self.stop)  # what is gathered is written when the process exits
        # A fork (gunicorn --preload, multiprocessing) copies only the forking thread: the child needs
        # a writer of its own.
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    def write(self, line: bytes) -> None:
        if self.stream is not None:
            if len(self._lines) == self._lines.maxlen:
                # The append below pushes the oldest line out (unless the writer takes lines just now:
                # then the count is one high, good enough for a warning).
                self._dropped += 1
            self._lines.append(line)

    def flush(self) -> None:
        """Writes every line gathered so far."""
        with self._flushing:
            if self.stream is None or not self._lines:
                return
            lines = self._lines
            batch = [lines.popleft() for _ in range(len(lines))]
            try:
                self.stream.write(b"\n".join(batch) + b"\n")
                self.stream.flush()
            except (OSError, ValueError):
                # stdout closed or broken: those lines are lost, as logging's handlers would lose them,
                # and the next ones are tried again rather than gathered forever.
                pass
            dropped = self._dropped
            if dropped > self._reported:
                _logger.warning("access log: %d lines dropped, stdout did not keep up", dropped - self._reported)
                self._reported = dropped

    def stop(self, timeout: float | None = STOP_WAIT_SECONDS) -> None:
        """Writes what is gathered, waiting at most `timeout` seconds (None: until written): the writer
        may be stuck in a write to a stdout that blocks, and the process must exit anyway (the thread is
        a daemon)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _start_writer(self) -> None:
        self._thread = threading.Thread(target=self._write_periodically, name="access-log", daemon=True)
        self._thread.start()

    def _write_periodically(self) -> None:
        while not self._stopped.wait(self._interval):
            self.flush()
        self.flush()  # stop(): the last lines

    def _after_fork_in_child(self) -> None:
        # The parent's writer may have held the lock when it forked; the lines gathered before are the
        # parent's to write, not written twice.
        self._flushing = threading.Lock()
        self._stopped = threading.Event()
        self._lines.clear()
        self._dropped = self._reported = 0
        self._start_writer()


access_log = AccessLog()


def configure_access_log() -> AccessLog:
    """The access log, going to stdout (one per process, however many apps are created)."""
    access_log.start(sys.stdout.buffer)
    return access_log


def _sent_request_id(scope: Scope) -> str:
    # The raw headers, not starlette's Headers: an absent header costs Headers.get a KeyError, and most
    # clients send none. Names are lowercase in ASGI; the first one counts, as with Headers.get.
    for name, value in scope["headers"]:
        if name == _REQUEST_ID_NAME:
            sent: str = value.decode("latin-1")
            return sent
    return ""


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(route, BaseRoute) and isinstance(path, str) else UNMATCHED_ROUTE


class RequestObservability:
    """Gives every request an id (the client's X-Request-ID if sane, else a new one), sends it back on
    the response, counts and times the request by route template and status, and logs one JSON line
    with method, route, status, duration and id: never the URL's ids, query, headers or body."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, log: AccessLog | None) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log  # None: no access log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = _sent_request_id(scope)
        request_id = sent_id if _SANE_REQUEST_ID.fullmatch(sent_id) else _new_request_id()
        id_header = (_REQUEST_ID_NAME, request_id.encode("latin-1"))
        # scope["state"] is request.state: the 500 handler, which runs outside this middleware, reads it.
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new list, as MutableHeaders would make: the response's own header list stays as it was.
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(method=scope["method"], route=route, status=status, seconds=duration)
            if self.log is not None:
                self.log.write(
                    orjson.dumps(
                        {
                            "method": scope["method"],
                            "route": route,
                            "status": status,
                            "duration_ms": round(duration * 1000, 3),
                            "request_id": request_id,
                        }
                    )
                )
