"""POST /notes/bulk: 1 to 500 notes, all or nothing."""

import httpx
import pytest

from notes_app.config import Settings
from notes_app.notes.models import Note
from tests.conftest import Account, api_client, assert_problem, create_note, note_payload


async def test_bulk_creates_every_note_in_input_order(client: httpx.AsyncClient, alice: Account) -> None:
    batch = [note_payload(title=f"  note {i} ", tags=[f"T{i % 3}", "Bulk"]) for i in range(7)]

    response = await client.post("/notes/bulk", json={"notes": batch})

    assert response.status_code == 201
    items = response.json()["items"]
    assert [item["title"] for item in items] == [f"note {i}" for i in range(7)]
    assert items[4]["tags"] == ["bulk", "t1"]
    assert [item["id"] for item in items] == sorted(item["id"] for item in items)
    assert all(item["version"] == 1 for item in items)
    assert await Note.filter(owner_id=alice.id).count() == 7
    for item in items:
        assert (await client.get(f"/notes/{item['id']}")).json() == item


async def test_bulk_takes_500_notes(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes/bulk", json={"notes": [{"title": f"n{i}"} for i in range(500)]})

    assert response.status_code == 201
    assert len(response.json()["items"]) == 500


@pytest.mark.parametrize("count", [0, 501])
async def test_bulk_of_no_notes_or_more_than_500_is_422(client: httpx.AsyncClient, count: int) -> None:
    problem = assert_problem(await client.post("/notes/bulk", json={"notes": [{"title": "n"}] * count}), 422)

    assert problem["errors"][0]["loc"] == ["body", "notes"]
    assert await Note.all().count() == 0


async def test_one_bad_note_at_index_317_fails_the_batch_naming_it(client: httpx.AsyncClient) -> None:
    existing = await create_note(client)
    batch = [{"title": f"n{i}"} for i in range(400)]
    batch[317] = {"title": "   "}

    problem = assert_problem(await client.post("/notes/bulk", json={"notes": batch}), 422)

    assert [error["loc"] for error in problem["errors"]] == [["body", "notes", 317, "title"]]
    assert await Note.all().count() == 1
    assert (await client.get(f"/notes/{existing['id']}")).json() == existing


@pytest.mark.parametrize(
    "body", [{"notes": [{"title": "n", "owner_id": 2}]}, {"notes": [], "extra": 1}, [{"title": "n"}]]
)
async def test_bulk_refuses_unknown_fields_and_other_shapes(client: httpx.AsyncClient, body: object) -> None:
    assert_problem(await client.post("/notes/bulk", json=body), 422)
    assert await Note.all().count() == 0


async def test_a_failure_half_way_leaves_nothing(
    settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    inserted = 0
    original = Note.create

    async def failing_after_100(**fields: object) -> Note:
        nonlocal inserted
        if inserted == 100:
            raise ConnectionResetError("the connection dropped")
        inserted += 1
        return await original(**fields)

    monkeypatch.setattr(Note, "create", failing_after_100)
    async with api_client(settings, alice, raise_app_exceptions=False) as client:
        response = await client.post("/notes/bulk", json={"notes": [{"title": f"n{i}"} for i in range(300)]})

    assert response.status_code >= 500
    assert inserted == 100
    assert await Note.all().count() == 0


async def test_bulk_needs_a_token(anonymous: httpx.AsyncClient) -> None:
    assert_problem(await anonymous.post("/notes/bulk", json={"notes": [{"title": "n"}]}), 401)
    assert await Note.all().count() == 0
