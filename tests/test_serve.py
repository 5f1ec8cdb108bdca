"""The production command (`notes_app`, `make serve`): several workers, and a graceful shutdown that lets a
request in progress finish."""

import asyncio
import signal
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from tests.conftest import asyncpg_dsn
from tests.support import run_python
from tests.test_outage import Server, log_in, start_server
from tests.test_server import SERVER_START_BOUND

SERVE = [sys.executable, "-m", "notes_app.serve"]


async def titles_stored(url: str) -> list[str]:
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            return [row[0] for row in db.execute("SELECT title FROM note ORDER BY id")]
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return [row["title"] for row in await connection.fetch("SELECT title FROM note ORDER BY id")]
    finally:
        await connection.close()


async def wait_for_output(server: Server, text: str, count: int = 1) -> None:
    deadline = time.monotonic() + SERVER_START_BOUND  # only against a hang on a busy machine
    while server.log.read_text().count(text) < count:
        assert time.monotonic() < deadline, f"never logged {count} x {text!r}:\n{server.log.read_text()}"
        await asyncio.sleep(0.05)


async def test_two_workers_serve_and_a_request_in_progress_finishes_after_sigterm(
    new_database: Callable[[], Any], tmp_path: Path
) -> None:
    url: str = await new_database()
    run_python("-m", "notes_app.migrate", database_url=url)
    server = await start_server(url, tmp_path / "serve.log", command=SERVE, extra_env={"WEB_CONCURRENCY": "2"})
    try:
        await wait_for_output(server, "Application startup complete", count=2)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            await log_in(client, "graceful")
            token = client.headers["Authorization"]
            assert (await client.post("/notes", json={"title": "before"})).status_code == 201

        # A request whose body is still on its way when the server is told to stop. `Expect: 100-continue`
        # makes uvicorn answer "100 Continue" once the app reads the body: proof the request is in progress.
        port = int(server.base_url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = orjson.dumps({"title": "in flight"})
        writer.write(
            b"POST /notes HTTP/1.1\r\nHost: notes.test\r\nContent-Type: application/json\r\n"
            + f"Authorization: {token}\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100")

        server.process.send_signal(signal.SIGTERM)
        await wait_for_output(server, "Waiting for connections to close")
        writer.write(body)
        await writer.drain()
        answer = await reader.read()
        writer.close()
        exit_status = await asyncio.wait_for(server.process.wait(), SERVER_START_BOUND)
    finally:
        await server.stop()

    assert answer.startswith(b"HTTP/1.1 201"), answer
    assert await titles_stored(url) == ["before", "in flight"]
    output = server.output
    assert output.count("Started server process") == 2, output  # two workers
    assert output.count("Application shutdown complete") == 2, output  # each closed its pool
    assert "Traceback" not in output, output
    # uvicorn re-raises SIGTERM once shut down, so the exit is by that signal (or 0).
    assert exit_status in (0, -signal.SIGTERM), output
