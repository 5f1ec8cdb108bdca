"""GET /notes: keyset pages on the default sort (-updated_at, ties broken by id)."""

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from notes_app.notes.models import Note
from tests.conftest import assert_problem, create_note


async def walk(client: httpx.AsyncClient, limit: int) -> list[list[int]]:
    pages: list[list[int]] = []
    params: dict[str, str | int] = {"limit": limit}
    while True:
        response = await client.get("/notes", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([note["id"] for note in page["items"]])
        if page["next_cursor"] is None:
            return pages
        params = {"limit": limit, "cursor": page["next_cursor"]}


async def test_an_empty_list(client: httpx.AsyncClient) -> None:
    response = await client.get("/notes")

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_the_default_page_is_20_newest_first(client: httpx.AsyncClient) -> None:
    ids = [(await create_note(client, title=f"n{i}"))["id"] for i in range(25)]

    page = (await client.get("/notes")).json()

    assert [note["id"] for note in page["items"]] == ids[::-1][:20]
    assert page["next_cursor"] is not None


async def test_an_update_moves_a_note_to_the_front(client: httpx.AsyncClient) -> None:
    first, second = await create_note(client, title="first"), await create_note(client, title="second")
    await client.patch(f"/notes/{first['id']}", json={"pinned": True})

    items = (await client.get("/notes")).json()["items"]

    assert [note["id"] for note in items] == [first["id"], second["id"]]


@pytest.mark.parametrize("limit", [1, 3, 7, 100])
async def test_walking_every_page_returns_each_note_once_in_order(client: httpx.AsyncClient, limit: int) -> None:
    ids = [(await create_note(client, title=f"n{i}"))["id"] for i in range(12)]

    pages = await walk(client, limit)

    assert [note_id for page in pages for note_id in page] == ids[::-1]
    assert all(len(page) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]) <= limit


async def test_ties_in_updated_at_are_broken_by_id(client: httpx.AsyncClient) -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [(await create_note(client, title=f"n{i}"))["id"] for i in range(7)]
    await Note.filter(id__in=ids).update(updated_at=moment)
    await Note.filter(id=ids[0]).update(updated_at=moment + timedelta(microseconds=1))

    pages = await walk(client, 2)

    assert [note_id for page in pages for note_id in page] == [ids[0], *sorted(ids[1:], reverse=True)]


async def test_whole_second_timestamps_sort_with_fractional_ones(client: httpx.AsyncClient) -> None:
    # SQLite stores timestamps as text, and a whole second has no fractional part there.
    base = datetime(2026, 1, 1, 12, tzinfo=UTC)
    ids = [(await create_note(client, title=f"n{i}"))["id"] for i in range(3)]
    for note_id, offset in zip(ids, [timedelta(0), timedelta(microseconds=500_000), timedelta(seconds=1)], strict=True):
        await Note.filter(id=note_id).update(updated_at=base + offset)

    pages = await walk(client, 1)

    assert [page[0] for page in pages] == ids[::-1]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", str(2**64)])
async def test_a_limit_outside_1_to_100_is_422(client: httpx.AsyncClient, limit: str) -> None:
    problem = assert_problem(await client.get("/notes", params={"limit": limit}), 422)
    assert problem["errors"][0]["loc"] == ["query", "limit"]


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%",
        "AAAA",
        _token({"sort": "-updated_at"}),
        _token(["-updated_at", "2026-01-01T00:00:00+00:00"]),
        _token(["created_at", "2026-01-01T00:00:00+00:00", 1]),
        _token(["-updated_at", "yesterday", 1]),
        _token(["-updated_at", "2026-01-01T00:00:00", 1]),  # no offset
        _token(["-updated_at", "2026-01-01T00:00:00+00:00", "1"]),
        _token(["-updated_at", "2026-01-01T00:00:00+00:00", 2**40]),
        _token(["-updated_at", "2026-01-01T00:00:00+00:00", 0]),
    ],
)
async def test_a_malformed_cursor_is_422(client: httpx.AsyncClient, cursor: str) -> None:
    await create_note(client)

    problem = assert_problem(await client.get("/notes", params={"cursor": cursor}), 422)

    assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_truncated_cursor_is_422(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await create_note(client, title=f"n{i}")
    cursor = (await client.get("/notes", params={"limit": 1})).json()["next_cursor"]

    assert_problem(await client.get("/notes", params={"cursor": cursor[: len(cursor) // 2]}), 422)


async def test_archived_notes_are_listed_only_when_asked_for(client: httpx.AsyncClient) -> None:
    kept = await create_note(client, title="kept")
    archived = await create_note(client, title="archived", archived=True)

    default = (await client.get("/notes")).json()["items"]
    only_archived = (await client.get("/notes", params={"archived": "true"})).json()["items"]

    assert [note["id"] for note in default] == [kept["id"]]
    assert [note["id"] for note in only_archived] == [archived["id"]]


@pytest.mark.parametrize(
    ("pinned", "expected"), [("true", ["pinned"]), ("false", ["plain"]), (None, ["pinned", "plain"])]
)
async def test_pinned_filters_when_given(client: httpx.AsyncClient, pinned: str | None, expected: list[str]) -> None:
    await create_note(client, title="plain")
    await create_note(client, title="pinned", pinned=True)
    params = {"pinned": pinned} if pinned is not None else {}

    items = (await client.get("/notes", params=params)).json()["items"]

    assert [note["title"] for note in items] == expected


async def test_filters_hold_across_pages(client: httpx.AsyncClient) -> None:
    pinned_ids = [(await create_note(client, title=f"p{i}", pinned=i % 2 == 0))["id"] for i in range(9)][::2]
    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 2, "pinned": "true"}
    while True:
        page = (await client.get("/notes", params=params)).json()
        seen += [note["id"] for note in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == pinned_ids[::-1]


@pytest.mark.parametrize("param", ["pinned", "archived"])
async def test_a_filter_that_is_not_a_boolean_is_422(client: httpx.AsyncClient, param: str) -> None:
    problem = assert_problem(await client.get("/notes", params={param: "maybe"}), 422)
    assert problem["errors"][0]["loc"] == ["query", param]
