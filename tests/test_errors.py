"""Every error the contract lists answers RFC 9457 problem+json, and none shows internals."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from notes_app.config import Settings
from notes_app.db import DATABASE_UNAVAILABLE
from notes_app.notes import pages
from notes_app.notes.models import Note
from tests.conftest import Account, api_client, assert_problem, create_note, note_payload

ONE_MIB = 1024 * 1024


@pytest.mark.parametrize("body", [b'{"title": ', b"{'title': 'single quotes'}", b"not json", b'{"title": "a",}'])
async def test_malformed_json_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/notes", content=body, headers={"content-type": "application/json"})

    problem = assert_problem(response, 400)
    assert "errors" not in problem
    assert await Note.all().count() == 0


async def test_malformed_json_on_put_and_patch_is_400(client: httpx.AsyncClient) -> None:
    created = await create_note(client)
    for method in ("PUT", "PATCH"):
        response = await client.request(
            method, f"/notes/{created['id']}", content=b"{", headers={"content-type": "application/json"}
        )
        assert_problem(response, 400)


async def test_a_path_nobody_serves_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/notes", "GET, POST"),
        ("POST", "/notes/1", "DELETE, GET, PATCH, PUT"),
        ("PUT", "/notes/bulk", "POST"),
        ("GET", "/notes/bulk", "POST"),
    ],
)
async def test_an_unsupported_method_is_405_naming_every_allowed_method(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)

    assert_problem(response, 405)
    assert response.headers["allow"] == allowed


async def test_a_body_declared_over_1_mib_is_413_and_nothing_is_written(client: httpx.AsyncClient) -> None:
    body = json.dumps(note_payload(body="x" * ONE_MIB)).encode()

    response = await client.post("/notes", content=body, headers={"content-type": "application/json"})

    assert_problem(response, 413)
    assert await Note.all().count() == 0


async def test_a_streamed_body_over_1_mib_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "big", "body": "'
        for _ in range(20):
            yield b"x" * (64 * 1024)
        yield b'"}'

    # An async iterator has no length: httpx sends it chunked, without Content-Length.
    response = await client.post("/notes", content=chunks(), headers={"content-type": "application/json"})

    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert await Note.all().count() == 0


async def test_a_body_just_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    # 100 000 four-byte characters: far under 1 MiB of JSON, and the largest body the contract allows.
    response = await client.post("/notes", json=note_payload(body="🎉" * 100_000))

    assert response.status_code == 201


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient, content_type: str) -> None:
    created = await create_note(client)
    body = json.dumps(note_payload(title="sneaky"))
    for method, path in (
        ("POST", "/notes"),
        ("PUT", f"/notes/{created['id']}"),
        ("PATCH", f"/notes/{created['id']}"),
    ):
        response = await client.request(method, path, content=body, headers={"content-type": content_type})
        assert_problem(response, 415)
    assert await Note.all().count() == 1
    assert (await client.get(f"/notes/{created['id']}")).json() == created


async def test_a_body_without_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", content=json.dumps(note_payload()))

    assert_problem(response, 415)


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
async def test_json_media_types_with_parameters_or_suffix_are_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post("/notes", content=json.dumps(note_payload()), headers={"content-type": content_type})

    assert response.status_code == 201


async def test_422_lists_every_error_with_loc_msg_and_type_only(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", json={"title": "", "tags": ["bad tag"], "pinned": "no", "extra": 1})

    problem = assert_problem(response, 422)
    locs = sorted(tuple(map(str, error["loc"])) for error in problem["errors"])
    assert locs == [("body", "extra"), ("body", "pinned"), ("body", "tags", "0"), ("body", "title")]
    assert all(set(error) == {"loc", "msg", "type"} for error in problem["errors"])


async def test_an_unexpected_failure_is_a_bare_500(
    settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: object) -> None:
        raise RuntimeError('SELECT secret FROM "note" -- asyncpg internal detail')

    monkeypatch.setattr(pages, "list_notes", broken)
    async with api_client(settings, alice, raise_app_exceptions=False) as client:
        response = await client.get("/notes")

    problem = assert_problem(response, 500)
    assert set(problem) == {"type", "title", "status"}


@pytest.mark.parametrize("exception_class", DATABASE_UNAVAILABLE)
async def test_every_database_outage_error_is_503_with_retry_after(
    settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch, exception_class: type[Exception]
) -> None:
    async def unavailable(**_: object) -> None:
        raise exception_class("connection lost: secret internals")

    monkeypatch.setattr(pages, "list_notes", unavailable)
    async with api_client(settings, alice) as client:
        response = await client.get("/notes")

    problem = assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0
    assert "secret" not in problem["detail"]
