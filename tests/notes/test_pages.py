"""GET /notes answers from the rows (notes_app/notes/pages.py): byte for byte what the ORM's models give."""

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from notes_app.notes.listing import NoteFilters, cursor_signer
from notes_app.notes.models import Note
from notes_app.notes.pagination import Cursor
from notes_app.notes.schemas import public_note
from tests.conftest import TEST_SECRET_KEY, Account, StatementCounter, create_note

# Every kind of value a field can hold, each in one note.
AWKWARD_NOTES: list[dict[str, Any]] = [
    {"title": "plain", "body": ""},
    {"title": "Ünïcödé ţïtłe 中文 العربية", "body": "Ωμέγα\u00a0nbsp and combining e\u0301"},
    {"title": "emoji 😀🎉👩‍👩‍👧", "body": "🧪" * 1000, "tags": ["emoji", "テスト"]},
    {"title": "line ends", "body": "one\r\ntwo\rthree\nfour\r\n"},
    {
        "title": 'quotes " and \\ backslash',
        "body": "<script>&amp;</script> \t tab \u2028 \u2029",
        "tags": ["a/b", "c-d_e"],
    },
    {"title": "large", "body": "x" * 100_000, "pinned": True, "archived": False},
    {"title": "many tags", "tags": [f"tag{i}" for i in range(20)], "pinned": True},
]
# Timestamps with and without microseconds, and at the edges of a second.
MOMENTS = [
    datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
    datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 3, 1, 12, 0, 0, 999_999, tzinfo=UTC),
    datetime(2026, 3, 1, 12, 0, 1, 500_000, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 123_456, tzinfo=UTC),
    datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
    datetime(2026, 3, 1, 12, 0, 0, 10, tzinfo=UTC),
]


async def orm_page(ids: list[int]) -> list[dict[str, Any]]:
    """The notes as the ORM path shows them: a model per note, then public_note."""
    notes = {note.id: note for note in await Note.filter(id__in=ids)}
    return [public_note(notes[note_id]) for note_id in ids]


@pytest.mark.parametrize("limit", [3, 100])
async def test_a_page_is_byte_for_byte_what_the_orm_models_give(
    client: httpx.AsyncClient, alice: Account, limit: int
) -> None:
    created = [await create_note(client, **note) for note in AWKWARD_NOTES]
    for note, moment in zip(created, MOMENTS, strict=True):
        await Note.filter(id=note["id"]).update(created_at=moment, updated_at=moment.replace(year=2027))

    pages: list[list[dict[str, Any]]] = []
    query: dict[str, Any] = {"limit": limit}
    while True:
        response = await client.get("/notes", params=query)
        assert response.status_code == 200
        page = response.json()
        ids = [item["id"] for item in page["items"]]
        # Byte for byte: the same keys in the same order, the same escapes, the same timestamp digits.
        assert response.content == orjson.dumps({"items": await orm_page(ids), "next_cursor": page["next_cursor"]})
        pages.append(page["items"])
        if page["next_cursor"] is None:
            break
        # The cursor is the one the ORM's last note of the page gives.
        last = await Note.get(id=ids[-1])
        signer = cursor_signer(
            signing_key=TEST_SECRET_KEY, owner_id=alice.id, sort="-updated_at", filters=NoteFilters()
        )
        assert page["next_cursor"] == signer.encode(Cursor(value=last.updated_at, id=last.id))
        query["cursor"] = page["next_cursor"]

    assert sorted(item["id"] for page in pages for item in page) == sorted(note["id"] for note in created)


@pytest.mark.parametrize(
    "params",
    [
        {"pinned": "true"},
        {"pinned": "false"},
        {"archived": "true"},
        {"tag": "emoji"},
        {"q": "line"},
        {"sort": "created_at"},
    ],
)
async def test_every_page_shape_answers_what_the_orm_models_give(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    for note in AWKWARD_NOTES:
        await create_note(client, **note)
    await create_note(client, title="archived line", archived=True, tags=["emoji"])

    response = await client.get("/notes", params={"limit": 100, **params})

    assert response.status_code == 200
    page = response.json()
    assert page["items"], params
    assert response.content == orjson.dumps(
        {"items": await orm_page([i["id"] for i in page["items"]]), "next_cursor": None}
    )


@pytest.mark.parametrize("query", ["", "&pinned=true", "&sort=created_at", "&tag=emoji", "&q=line"])
async def test_a_page_statement_reads_only_the_fields_it_answers(
    client: httpx.AsyncClient, statements: StatementCounter, query: str
) -> None:
    for note in AWKWARD_NOTES * 2:  # two notes at least of every filter's, so that a second page exists
        await create_note(client, **note)
    cursor = (await client.get("/notes?limit=1" + query)).json()["next_cursor"]

    for path in (f"/notes?limit=1{query}", f"/notes?limit=1{query}&cursor={cursor}"):
        statements.reset()
        assert (await client.get(path)).status_code == 200
        [statement] = statements.statements
        # What the page writes, and nothing the conditions alone need (owner_id, deleted_at, change_seq).
        selected = re.fullmatch(r"SELECT (.*?) FROM .*", statement, flags=re.DOTALL)
        assert selected is not None, statement
        assert [column.split()[-1].strip('"') for column in selected[1].split(",")] == [
            "id", "title", "body", "tags", "pinned", "archived", "version", "created_at", "updated_at"
        ], statement  # fmt: skip
