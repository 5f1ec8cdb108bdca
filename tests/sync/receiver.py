"""A webhook receiver on 127.0.0.1, served by uvicorn in the test's own event loop.

Each test says how it answers (`respond`), and waits on Events, never on the clock."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


Respond = Callable[[Received], Awaitable[tuple[int, dict[str, str]]]]


async def accept(_: Received) -> tuple[int, dict[str, str]]:
    return 204, {}


@dataclass
class Receiver:
    respond: Respond = accept
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _arrivals: asyncio.Condition = field(default_factory=asyncio.Condition)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def until(self, count: int, path: str | None = None, seconds: float = 60) -> list[Received]:
        """Until `count` requests (to `path`, if given) have arrived; those requests. Bounded wide, for a
        hung test, not for timing."""

        def matching() -> list[Received]:
            return [r for r in self.received if path is None or r.path == path]

        async with asyncio.timeout(seconds), self._arrivals:
            await self._arrivals.wait_for(lambda: len(matching()) >= count)
        return matching()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = Received(
            path=scope["path"],
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
        )
        async with self._arrivals:
            self.received.append(request)
            self._arrivals.notify_all()
        status, headers = await self.respond(request)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def serving(receiver: Receiver, port: int = 0) -> AsyncIterator[Receiver]:
    config = uvicorn.Config(
        receiver, host="127.0.0.1", port=port, lifespan="off", log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no Event for "listening"
            await asyncio.sleep(0.01)
    receiver.port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
