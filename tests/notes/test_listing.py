"""GET /notes: keyset pages in four sorts (ties broken by id), filters, and signed cursors."""

import base64
import itertools
import json
import random
import string
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from notes_app.notes.models import Note
from tests.conftest import assert_problem, create_note

SORTS = ["-updated_at", "updated_at", "-created_at", "created_at"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)
# More pages than any test's notes fill: a cursor that goes round in circles fails, rather than hangs.
MAX_PAGES = 200

Params = dict[str, Any]


async def walk(client: httpx.AsyncClient, limit: int = 20, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of the list, following next_cursor from the first page to the last."""
    pages: list[list[dict[str, Any]]] = []
    query: Params = {"limit": limit, **params}
    while len(pages) < MAX_PAGES:
        response = await client.get("/notes", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        if page["next_cursor"] is None:
            return pages
        query = {**query, "cursor": page["next_cursor"]}
    pytest.fail(f"no last page after {MAX_PAGES} pages")


async def walk_ids(client: httpx.AsyncClient, limit: int = 20, **params: Any) -> list[int]:
    return [note["id"] for page in await walk(client, limit, **params) for note in page]


async def next_cursor(client: httpx.AsyncClient, **params: Any) -> str:
    cursor: str = (await client.get("/notes", params={"limit": 1, **params})).json()["next_cursor"]
    assert cursor is not None
    return cursor


def in_order(notes: Iterable[dict[str, Any]], sort: str) -> list[int]:
    """The ids of `notes` in the order `sort` names: the timestamp, then the id, both one way."""
    field = sort.removeprefix("-")
    return [note["id"] for note in sorted(notes, key=lambda n: (n[field], n["id"]), reverse=sort.startswith("-"))]


async def set_timestamps(note_id: int, *, created: timedelta, updated: timedelta) -> None:
    await Note.filter(id=note_id).update(created_at=BASE + created, updated_at=BASE + updated)


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

    assert [note["id"] for page in pages for note in page] == ids[::-1]
    assert all(len(page) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]) <= limit


@pytest.mark.parametrize("sort", SORTS)
async def test_each_sort_orders_by_its_timestamp_then_id(client: httpx.AsyncClient, sort: str) -> None:
    # Created in one order, last updated in another, so that each sort has its own answer.
    updated_order = [5, 2, 8, 0, 9, 4, 1, 7, 3, 6]
    for i, updated in enumerate(updated_order):
        note = await create_note(client, title=f"n{i}")
        await set_timestamps(note["id"], created=timedelta(minutes=i), updated=timedelta(hours=updated))
    notes = [note for page in await walk(client, 100) for note in page]

    ids = await walk_ids(client, 3, sort=sort)

    assert ids == in_order(notes, sort)
    assert ids != in_order(notes, next(other for other in SORTS if other != sort))


@pytest.mark.parametrize("sort", SORTS)
async def test_ties_in_the_sort_timestamp_are_broken_by_id_in_the_same_direction(
    client: httpx.AsyncClient, sort: str
) -> None:
    ids = [(await create_note(client, title=f"n{i}"))["id"] for i in range(7)]
    await Note.filter(id__in=ids).update(created_at=BASE, updated_at=BASE)
    await set_timestamps(ids[3], created=timedelta(microseconds=1), updated=timedelta(microseconds=1))
    tied = sorted(set(ids) - {ids[3]}, reverse=sort.startswith("-"))

    walked = await walk_ids(client, 2, sort=sort)

    assert walked == ([ids[3], *tied] if sort.startswith("-") else [*tied, ids[3]])


async def test_whole_second_timestamps_sort_with_fractional_ones(client: httpx.AsyncClient) -> None:
    # SQLite stores timestamps as text, and a whole second has no fractional part there.
    base = datetime(2026, 1, 1, 12, tzinfo=UTC)
    ids = [(await create_note(client, title=f"n{i}"))["id"] for i in range(3)]
    for note_id, offset in zip(ids, [timedelta(0), timedelta(microseconds=500_000), timedelta(seconds=1)], strict=True):
        await Note.filter(id=note_id).update(updated_at=base + offset)

    pages = await walk(client, 1)

    assert [page[0]["id"] for page in pages] == ids[::-1]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5", str(2**64)])
async def test_a_limit_outside_1_to_100_is_422(client: httpx.AsyncClient, limit: str) -> None:
    problem = assert_problem(await client.get("/notes", params={"limit": limit}), 422)
    assert problem["errors"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("sort", ["title", "id", "-id", "updated", "+updated_at", "UPDATED_AT", "", "--created_at"])
async def test_an_unknown_sort_is_422(client: httpx.AsyncClient, sort: str) -> None:
    problem = assert_problem(await client.get("/notes", params={"sort": sort}), 422)
    assert problem["errors"][0]["loc"] == ["query", "sort"]


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

    assert await walk_ids(client, 2, pinned="true") == pinned_ids[::-1]


@pytest.mark.parametrize("param", ["pinned", "archived"])
async def test_a_filter_that_is_not_a_boolean_is_422(client: httpx.AsyncClient, param: str) -> None:
    problem = assert_problem(await client.get("/notes", params={param: "maybe"}), 422)
    assert problem["errors"][0]["loc"] == ["query", param]


# Tags


async def test_tag_lists_the_notes_that_carry_it(client: httpx.AsyncClient) -> None:
    home = await create_note(client, title="home", tags=["home"])
    await create_note(client, title="work", tags=["work"])
    both = await create_note(client, title="both", tags=["work", "home"])

    assert await walk_ids(client, tag="home") == [both["id"], home["id"]]


async def test_several_tags_list_only_the_notes_that_carry_every_one(client: httpx.AsyncClient) -> None:
    await create_note(client, title="home", tags=["home"])
    both = await create_note(client, title="both", tags=["home", "work", "urgent"])
    await create_note(client, title="work", tags=["work", "urgent"])

    assert await walk_ids(client, tag=["home", "work"]) == [both["id"]]
    assert await walk_ids(client, tag=["home", "work", "missing"]) == []


@pytest.mark.parametrize("written", ["  Home ", "HOME", "home", "CAFÉ"])
async def test_tag_filters_are_normalised_like_note_tags(client: httpx.AsyncClient, written: str) -> None:
    note = await create_note(client, tags=["home", "café"])
    await create_note(client, title="other", tags=["work"])

    assert await walk_ids(client, tag=written) == [note["id"]]


async def test_a_repeated_tag_counts_once(client: httpx.AsyncClient) -> None:
    note = await create_note(client, tags=["home"])

    assert await walk_ids(client, tag=["home", "HOME", "home"]) == [note["id"]]


@pytest.mark.parametrize("tag", ["", "   ", "two words", "a" * 51, "semi;colon", "quote'", "x\x00"])
async def test_a_tag_that_no_note_could_carry_is_422(client: httpx.AsyncClient, tag: str) -> None:
    problem = assert_problem(await client.get("/notes", params={"tag": ["home", tag]}), 422)
    assert problem["errors"][0]["loc"] == ["query", "tag", 1]


async def test_more_than_20_tags_is_422(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get("/notes", params={"tag": [f"t{i}" for i in range(21)]}), 422)
    assert problem["errors"][0]["loc"] == ["query", "tag"]


async def test_tags_are_matched_whole_not_as_parts_of_other_tags(client: httpx.AsyncClient) -> None:
    await create_note(client, tags=["homework", "at-home"])

    assert await walk_ids(client, tag="home") == []


# Every filter with every other, in every sort


CORPUS = [
    # title, body, tags, pinned, archived
    ("apple pie", "bake it", ["home", "food"], True, False),
    ("apple", "crumble with cream", ["food"], False, False),
    ("pie chart", "apple sales", ["work"], False, False),
    ("shopping", "apple, pie, flour", ["home", "food"], False, True),
    ("taxes", "due in april", ["home", "work"], True, False),
    ("pie", "", [], False, False),
    ("archive apple pie", "old", ["home", "food"], True, True),
    ("plain", "nothing to see", ["home"], False, False),
]
SEARCHES = [None, "apple", "apple pie", "PIE"]
TAG_FILTERS: list[tuple[str, ...]] = [(), ("home",), ("home", "food")]


def expected_ids(notes: list[dict[str, Any]], params: Params, sort: str) -> list[int]:
    """What GET /notes must answer, worked out in Python from the notes as the API shows them."""

    def passes(note: dict[str, Any]) -> bool:
        words = {word.strip(",") for word in f"{note['title']} {note['body']}".lower().split()}
        return (
            note["archived"] == params["archived"]
            and params.get("pinned") in (None, note["pinned"])
            and set(params["tag"]) <= set(note["tags"])
            and set(params.get("q", "").lower().split()) <= words
        )

    return in_order(filter(passes, notes), sort)


@pytest.mark.parametrize("sort", SORTS)
async def test_every_combination_of_filters_pages_through_exactly_the_matching_notes(
    client: httpx.AsyncClient, sort: str
) -> None:
    notes = []
    for i, (title, body, tags, pinned, archived) in enumerate(CORPUS):
        note = await create_note(client, title=title, body=body, tags=tags, pinned=pinned, archived=archived)
        # Creation and last change in different orders, with a tie in each.
        await set_timestamps(note["id"], created=timedelta(minutes=i // 2), updated=timedelta(hours=(5 * i) % 7))
        notes.append((await client.get(f"/notes/{note['id']}")).json())

    for q, tags, pinned, archived in itertools.product(SEARCHES, TAG_FILTERS, [None, True, False], [False, True]):
        params: Params = {"tag": list(tags), "archived": archived, "sort": sort}
        if q is not None:
            params["q"] = q
        if pinned is not None:
            params["pinned"] = pinned

        assert await walk_ids(client, 2, **params) == expected_ids(notes, params, sort), params


# The walk guarantee


@pytest.mark.parametrize("sort", SORTS)
async def test_a_walk_lists_once_every_note_that_stays_unchanged_while_others_are_written(
    client: httpx.AsyncClient, sort: str
) -> None:
    shuffle = random.Random(5).sample(range(40), 40)
    created: list[dict[str, Any]] = []
    for i in range(40):
        note = await create_note(client, title=f"n{i}")
        # Spread over the past, a few sharing a timestamp, creation and change in different orders.
        await set_timestamps(note["id"], created=timedelta(seconds=i // 3), updated=timedelta(seconds=shuffle[i] // 3))
        created.append(note)
    # Every third note is left alone for the whole walk; the others are deleted or changed during it.
    stable = {note["id"] for note in created[::3]}
    volatile = [note["id"] for note in created if note["id"] not in stable]
    changed: set[int] = set()
    seen: list[dict[str, Any]] = []
    query: Params = {"limit": 4, "sort": sort}
    for _ in range(MAX_PAGES):
        page = (await client.get("/notes", params=query)).json()
        seen += page["items"]
        if page["next_cursor"] is None:
            break
        query["cursor"] = page["next_cursor"]
        # Between two pages: another client inserts two notes, deletes one and edits another.
        for _ in range(2):
            await create_note(client, title="written during the walk")
        if volatile:
            assert (await client.delete(f"/notes/{volatile.pop(0)}")).status_code == 204
        if volatile:
            edited = volatile.pop()
            assert (await client.patch(f"/notes/{edited}", json={"title": "edited"})).status_code == 200
            changed.add(edited)
    else:
        pytest.fail(f"no last page after {MAX_PAGES} pages")

    ids = [note["id"] for note in seen]
    assert stable <= set(ids)
    repeated = {note_id for note_id in ids if ids.count(note_id) > 1}
    if sort == "updated_at":
        # The one order in which a change moves a note forward, past the cursor: a note edited during
        # the walk may come again, as its new version.
        assert repeated <= changed
        for note_id in repeated:
            versions = [note["version"] for note in seen if note["id"] == note_id]
            assert versions == sorted(versions)
            assert len(set(versions)) == len(versions)
    else:
        assert repeated == set()


async def test_a_cursor_outlives_the_note_it_was_taken_from(client: httpx.AsyncClient) -> None:
    ids = [(await create_note(client, title=f"n{i}"))["id"] for i in range(5)]
    page = (await client.get("/notes", params={"limit": 2})).json()
    await client.delete(f"/notes/{ids[3]}")  # the last note of that page

    rest = (await client.get("/notes", params={"limit": 10, "cursor": page["next_cursor"]})).json()

    assert [note["id"] for note in rest["items"]] == ids[2::-1]


async def test_the_page_size_may_change_from_page_to_page(client: httpx.AsyncClient) -> None:
    ids = [(await create_note(client, title=f"n{i}"))["id"] for i in range(6)]
    cursor = await next_cursor(client)

    rest = (await client.get("/notes", params={"limit": 3, "cursor": cursor})).json()

    assert [note["id"] for note in rest["items"]] == ids[4:1:-1]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"q": "apple  pie"}, {"q": " apple pie "}),
        ({"tag": ["work", "home"]}, {"tag": ["HOME", "work", "home"]}),
        ({}, {"q": "   "}),
    ],
)
async def test_a_cursor_holds_for_the_same_filters_spelled_differently(
    client: httpx.AsyncClient, first: Params, then: Params
) -> None:
    for i in range(3):
        await create_note(client, title=f"apple pie {i}", tags=["home", "work"])
    cursor = await next_cursor(client, **first)

    response = await client.get("/notes", params={"cursor": cursor, **then})

    assert response.status_code == 200
    assert len(response.json()["items"]) == 2


# Cursors are opaque, signed and tied to one list


BASE64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def flip(text: str, index: int) -> str:
    """`text` with the lowest bit of the base64url character at `index` flipped. In the last character
    of a part that bit may encode nothing: the string changes and the bytes it decodes to do not."""
    replacement = BASE64URL[BASE64URL.index(text[index]) ^ 1]
    return text[:index] + replacement + text[index + 1 :]


def unsigned(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


@pytest.fixture
async def cursor(client: httpx.AsyncClient) -> str:
    """A genuine cursor of alice's default list, at the first of three notes."""
    for i in range(3):
        await create_note(client, title=f"apple {i}", tags=["home"])
    return await next_cursor(client)


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda c: flip(c, 3), id="a character of the payload"),
        pytest.param(lambda c: flip(c, c.index(".") - 1), id="the payload's last character"),
        pytest.param(lambda c: flip(c, c.index(".") + 5), id="a character of the signature"),
        pytest.param(lambda c: flip(c, len(c) - 1), id="the signature's last character"),
        pytest.param(lambda c: c[: len(c) // 2], id="cut in half"),
        pytest.param(lambda c: c[:-1], id="one character short"),
        pytest.param(lambda c: c[: c.index(".")], id="no signature"),
        pytest.param(lambda c: c + "A", id="one character more"),
        pytest.param(lambda c: c + "=", id="padded"),
        pytest.param(lambda c: c.replace(".", ".."), id="two dots"),
        pytest.param(lambda c: c[c.index(".") + 1 :] + "." + c[: c.index(".")], id="parts swapped"),
        pytest.param(lambda c: c * 2, id="doubled"),
    ],
)
async def test_an_altered_cursor_is_422(client: httpx.AsyncClient, cursor: str, alter: Any) -> None:
    altered = alter(cursor)
    assert altered != cursor

    problem = assert_problem(await client.get("/notes", params={"cursor": altered}), 422)

    assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_cursor_with_another_cursors_signature_is_422(client: httpx.AsyncClient, cursor: str) -> None:
    page = (await client.get("/notes", params={"limit": 1, "cursor": cursor})).json()
    second = page["next_cursor"]
    spliced = cursor.split(".")[0] + "." + second.split(".")[1]

    assert_problem(await client.get("/notes", params={"cursor": spliced}), 422)


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"sort": "updated_at"},
        {"sort": "-created_at"},
        {"sort": "created_at"},
        {"pinned": "false"},
        {"archived": "true"},
        {"tag": "home"},
        {"q": "apple"},
    ],
)
async def test_a_cursor_of_another_sort_or_filter_is_422(
    client: httpx.AsyncClient, cursor: str, elsewhere: Params
) -> None:
    # A position in one list means nothing in another: refused, never a wrong page.
    problem = assert_problem(await client.get("/notes", params={"cursor": cursor, **elsewhere}), 422)

    assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_cursor_from_a_filtered_list_is_422_without_the_filter(client: httpx.AsyncClient, cursor: str) -> None:
    filtered = await next_cursor(client, tag="home")

    assert_problem(await client.get("/notes", params={"cursor": filtered}), 422)
    assert (await client.get("/notes", params={"cursor": filtered, "tag": "home"})).status_code == 200


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "not a cursor",
        "%%%",
        "AAAA",
        "AAAA.AAAA",
        ".",
        unsigned(["-updated_at", "2026-01-01T00:00:00+00:00", 1]),
        unsigned(["2026-01-01T00:00:00+00:00", 1]),
        unsigned(["2026-01-01T00:00:00+00:00", 1]) + "." + "A" * 43,
        "x" * 201,
    ],
)
async def test_a_cursor_this_service_did_not_sign_is_422(client: httpx.AsyncClient, forged: str) -> None:
    await create_note(client)

    problem = assert_problem(await client.get("/notes", params={"cursor": forged}), 422)

    assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_each_query_parameter_is_documented_on_its_own(client: httpx.AsyncClient) -> None:
    # The parameters are read as one model (notes_app/notes/dependencies.py PageQuery): clients still
    # see each one, with its rules, not one object parameter.
    document = (await client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"]["/notes"]["get"]["parameters"] if p["in"] == "query"}

    assert set(parameters) == {"limit", "cursor", "q", "tag", "pinned", "archived", "sort"}
    assert all(parameter["description"] and not parameter["required"] for parameter in parameters.values())
    limit = parameters["limit"]["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"], limit["default"]) == ("integer", 1, 100, 20)
    assert parameters["tag"]["schema"]["type"] == "array"


async def test_an_unknown_query_parameter_is_ignored(client: httpx.AsyncClient) -> None:
    note = await create_note(client)

    response = await client.get("/notes", params={"limit": 5, "colour": "blue"})

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [note["id"]]
