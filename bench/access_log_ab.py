"""The access log's CPU per request, measured in one process: notes_app's RequestObservability around an app
that answers at once, with the access log on and off, in alternating blocks.

    bench/.venv/bin/python bench/access_log_ab.py      # or the project's .venv

The wrk pairs in RESULTS.md ("access log: on against off") measure the whole server, where a few percent
drown in run-to-run noise. Here the only difference between the two middlewares is the log: building the
line on the event loop, and the writer thread (writing to a temporary file) joining and writing the lines.
`time.process_time` counts every thread of the process, so the writer's CPU is in the "on" figure.
Divide the difference by notes_app's server CPU per GET in RESULTS.md for the log's share of a request.
"""

import asyncio
import statistics
import tempfile
import time

from prometheus_client import CollectorRegistry
from starlette.types import Message, Receive, Scope, Send

from notes_app.health.metrics import HttpMetrics
from notes_app.observability import AccessLog, RequestObservability

BLOCKS = 20
CALLS_PER_BLOCK = 5_000


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def receive() -> Message:
    return {"type": "http.request", "body": b""}


async def discard(message: Message) -> None:
    pass


def request_scope() -> Scope:
    return {"type": "http", "method": "GET", "path": "/notes/1", "headers": [(b"authorization", b"Bearer x")]}


async def cpu_per_call(middleware: RequestObservability) -> float:
    started = time.process_time()
    for _ in range(CALLS_PER_BLOCK):
        await middleware(request_scope(), receive, discard)
    return (time.process_time() - started) / CALLS_PER_BLOCK * 1e6


async def main() -> None:
    log = AccessLog()
    with tempfile.TemporaryFile() as output:
        log.start(output)
        on = RequestObservability(answer, metrics=HttpMetrics(CollectorRegistry()), log=log)
        off = RequestObservability(answer, metrics=HttpMetrics(CollectorRegistry()), log=None)
        on_us, off_us = [], []
        for _ in range(BLOCKS):
            on_us.append(await cpu_per_call(on))
            off_us.append(await cpu_per_call(off))
        log.stop()
    on_median, off_median = statistics.median(on_us), statistics.median(off_us)
    print(
        f"access log on {on_median:.2f} µs, off {off_median:.2f} µs of CPU per request (medians of {BLOCKS} "
        f"blocks of {CALLS_PER_BLOCK:,}): the log costs {on_median - off_median:.2f} µs per request"
    )


if __name__ == "__main__":
    asyncio.run(main())
