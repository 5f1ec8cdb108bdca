"""X-Request-ID on every response, and one access log line per request that leaks nothing."""

import asyncio
import io
import json
import os
import re
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from notes_app.config import Settings
from notes_app.notes import pages
from notes_app.observability import AccessLog, access_log
from tests.conftest import Account, api_client, create_note

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


AccessLines = Callable[[], list[dict[str, object]]]


@pytest.fixture
def access_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[AccessLines]:
    """The access log's lines since the test started, parsed, as the app writes them."""
    access_log.flush()  # earlier tests' lines go where they were going
    written = io.BytesIO()
    monkeypatch.setattr(access_log, "stream", written)

    def lines() -> list[dict[str, object]]:
        access_log.flush()
        return [json.loads(line) for line in written.getvalue().splitlines()]

    yield lines
    access_log.flush()


@pytest.mark.parametrize("request_id", ["abc-123", "trace.id:42_x", "A" * 128])
async def test_a_sane_client_request_id_is_echoed(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/notes", headers={"X-Request-ID": request_id})

    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize("request_id", ["", "has space", "A" * 129, "semi;colon", "new\\nline", "ünï"])
async def test_an_unusable_client_request_id_is_replaced(client: httpx.AsyncClient, request_id: str) -> None:
    response = await client.get("/notes", headers={"X-Request-ID": request_id.encode("utf-8")})  # type: ignore[dict-item]

    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def test_every_kind_of_response_carries_a_request_id(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    responses = [
        await client.post("/notes", json={"title": "ok"}),
        await client.get("/notes/424242"),
        await anonymous.get("/notes"),
        await client.post("/notes", content=b"{", headers={"content-type": "application/json"}),
        await client.post("/notes", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "application/json"}),
        await client.delete("/notes"),
        await client.get("/health/live"),
    ]

    assert [r.status_code for r in responses] == [201, 404, 401, 400, 413, 405, 200]
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


async def test_a_500_carries_the_request_id_too(
    settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(pages, "list_notes", broken)
    async with api_client(settings, alice, raise_app_exceptions=False) as client:
        response = await client.get("/notes", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-500"


async def test_one_log_line_per_request_with_route_template_status_and_duration(
    client: httpx.AsyncClient, access_lines: AccessLines
) -> None:
    note = await create_note(client)
    before = len(access_lines())

    response = await client.get(f"/notes/{note['id']}", headers={"X-Request-ID": "trace-1"})

    assert len(access_lines()) == before + 1
    line = access_lines()[-1]
    assert set(line) == {"method", "route", "status", "duration_ms", "request_id"}
    assert (line["method"], line["route"], line["status"], line["request_id"]) == (
        "GET",
        "/notes/{note_id}",
        200,
        response.headers["x-request-id"],
    )
    assert isinstance(line["duration_ms"], float)


async def test_log_lines_never_hold_passwords_tokens_bodies_or_ids(
    anonymous: httpx.AsyncClient, access_lines: AccessLines
) -> None:
    secret_password = "very-secret-password-42"
    await anonymous.post("/users", json={"username": "logcheck", "password": secret_password})
    token = (await anonymous.post("/auth/token", data={"username": "logcheck", "password": secret_password})).json()[
        "access_token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    note = (
        await anonymous.post("/notes", json={"title": "secret title", "body": "secret body"}, headers=headers)
    ).json()
    await anonymous.get(f"/notes/{note['id']}?limit=secret-query", headers=headers)

    logged = json.dumps(access_lines())
    for secret in (secret_password, token, "secret title", "secret body", "secret-query", f"/notes/{note['id']}"):
        assert secret not in logged
    assert len(access_lines()) == 4


class StuckStream(io.BytesIO):
    """A stdout nobody reads: every write waits until the test lets it through."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.unstuck = threading.Event()

    def write(self, data: bytes, /) -> int:  # type: ignore[override]
        self.writing.set()
        self.unstuck.wait()
        return super().write(data)


async def test_requests_are_answered_while_the_log_cannot_be_written(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    access_log.flush()
    stuck = StuckStream()
    monkeypatch.setattr(access_log, "stream", stuck)
    try:
        await client.get("/health/live")
        # The log's thread is now stuck in a write, holding a line ...
        assert await asyncio.to_thread(stuck.writing.wait, 10)

        # ... and the event loop goes on answering, gathering the lines meanwhile.
        responses = [await client.get("/health/live") for _ in range(20)]
        assert [response.status_code for response in responses] == [200] * 20
    finally:
        stuck.unstuck.set()
    await asyncio.to_thread(access_log.flush)
    assert len(stuck.getvalue().splitlines()) == 21


async def test_access_log_false_writes_no_lines(settings: Settings, alice: Account, access_lines: AccessLines) -> None:
    async with api_client(settings.model_copy(update={"access_log": False}), alice) as quiet:
        assert (await quiet.get("/notes")).status_code == 200

    assert access_lines() == []


def test_a_stdout_that_does_not_keep_up_costs_bounded_memory_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    written = io.BytesIO()
    log = AccessLog(interval=3600, max_lines=3)  # its thread writes only when stopped
    log.start(written)

    for n in range(5):
        log.write(b"line %d" % n)
    log.stop(timeout=None)

    assert written.getvalue().splitlines() == [b"line 2", b"line 3", b"line 4"]  # the oldest went
    assert [record.getMessage() for record in caplog.records] == ["access log: 2 lines dropped, stdout did not keep up"]


def test_exit_does_not_wait_for_a_stdout_that_blocks() -> None:
    stuck = StuckStream()
    log = AccessLog(interval=3600)
    log.start(stuck)
    log.write(b"held")
    try:
        stopping = threading.Thread(target=log.stop, kwargs={"timeout": 0.01})
        stopping.start()
        assert stuck.writing.wait(10)  # the writer's last flush is stuck in its write ...

        stopping.join(10)
        assert not stopping.is_alive()  # ... and stop() returned anyway
    finally:
        stuck.unstuck.set()


def test_a_forked_child_writes_its_own_lines() -> None:
    read_end, write_end = os.pipe()
    log = AccessLog(interval=3600)
    with os.fdopen(write_end, "wb") as stream:
        log.start(stream)
        log.write(b"parent")
        child = os.fork()
        if child == 0:  # pragma: no cover (the child process)
            try:
                log.write(b"child")
                log.stop(timeout=None)
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        log.stop(timeout=None)
    with os.fdopen(read_end, "rb") as pipe:
        # The child has a writer of its own, and leaves the parent's line to the parent.
        assert sorted(pipe.read().splitlines()) == [b"child", b"parent"]
