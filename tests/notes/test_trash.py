"""The trash (docs/api.md, "Trash"): DELETE keeps the note, gone from every v1 path until restored or purged."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from notes_app.notes.models import Note, NoteRevision
from notes_app.notes.trash import empty_trash, purge_expired_trash
from tests.conftest import Account, assert_problem, create_note, note_payload

TOO_BIG = 2**31  # beyond the 32-bit id column


async def trash(client: httpx.AsyncClient, note: dict[str, Any]) -> None:
    response = await client.delete(f"/notes/{note['id']}")
    assert response.status_code == 204, response.text


async def test_a_deleted_note_is_in_the_trash_as_it_was(client: httpx.AsyncClient) -> None:
    note = await create_note(client, archived=True)

    await trash(client, note)
    listed = (await client.get("/trash")).json()

    assert listed["next_cursor"] is None
    [item] = listed["items"]
    deleted_at = item.pop("deleted_at")
    assert item == note  # neither version nor updated_at moved
    assert deleted_at.endswith("Z")
    assert datetime.fromisoformat(deleted_at) >= datetime.fromisoformat(note["updated_at"])


async def test_a_trashed_note_is_gone_from_every_v1_endpoint(client: httpx.AsyncClient) -> None:
    note = await create_note(client, title="findable", tags=["kept"])
    path = f"/notes/{note['id']}"
    etag = f'"{note["id"]}-{note["version"]}"'

    await trash(client, note)

    assert_problem(await client.get(path), 404)
    assert_problem(await client.get(path, headers={"If-None-Match": etag}), 404)
    assert_problem(await client.put(path, json=note_payload()), 404)
    assert_problem(await client.put(path, json=note_payload(), headers={"If-Match": etag}), 404)
    assert_problem(await client.patch(path, json={"title": "x"}), 404)
    assert_problem(await client.patch(path, json={"title": "x"}, headers={"If-Match": etag}), 404)
    assert_problem(await client.delete(path), 404)
    assert_problem(await client.delete(path, headers={"If-Match": etag}), 404)
    assert_problem(await client.get(f"{path}/revisions"), 404)
    assert_problem(await client.get(f"{path}/revisions/1"), 404)
    assert_problem(await client.get(f"{path}/revisions/1/diff"), 404)
    assert_problem(await client.post(f"{path}/revisions/1/restore"), 404)
    for query in ({}, {"archived": "true"}, {"q": "findable"}, {"tag": "kept"}, {"sort": "created_at"}):
        assert (await client.get("/notes", params=query)).json()["items"] == [], query
    stored = await Note.get(id=note["id"])
    assert (stored.title, stored.version) == ("findable", 1)  # the failed writes changed nothing


async def test_restore_brings_the_note_back_as_a_new_version(client: httpx.AsyncClient) -> None:
    note = await create_note(client, pinned=True, archived=True)
    await trash(client, note)

    response = await client.post(f"/trash/{note['id']}/restore")

    assert response.status_code == 200
    restored = response.json()
    assert restored["version"] == note["version"] + 1
    assert restored["updated_at"] > note["updated_at"]
    assert {k: v for k, v in restored.items() if k not in ("version", "updated_at")} == {
        k: v for k, v in note.items() if k not in ("version", "updated_at")
    }
    assert response.headers["etag"] == f'"{note["id"]}-{note["version"] + 1}"'
    assert (await client.get(f"/notes/{note['id']}")).json() == restored
    assert (await client.get("/trash")).json()["items"] == []
    revisions = (await client.get(f"/notes/{note['id']}/revisions")).json()["items"]
    assert [revision["version"] for revision in revisions] == [2, 1]


async def test_restore_of_a_note_not_in_the_trash_is_404(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    live = await create_note(client)
    bobs = await create_note(bob_client)
    await trash(bob_client, bobs)

    for note_id in (live["id"], bobs["id"], 0, TOO_BIG, 2**63):
        assert_problem(await client.post(f"/trash/{note_id}/restore"), 404)
    assert (await client.get(f"/notes/{live['id']}")).json()["version"] == 1
    assert [item["id"] for item in (await bob_client.get("/trash")).json()["items"]] == [bobs["id"]]


async def test_delete_from_the_trash_deletes_the_note_and_its_history_for_good(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    await client.patch(f"/notes/{note['id']}", json={"title": "second"})
    await trash(client, note)

    response = await client.delete(f"/trash/{note['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert not await Note.exists(id=note["id"])
    assert not await NoteRevision.exists(note_id=note["id"])
    assert_problem(await client.delete(f"/trash/{note['id']}"), 404)
    assert_problem(await client.post(f"/trash/{note['id']}/restore"), 404)
    assert (await create_note(client))["id"] > note["id"]  # ids are never reused


async def test_delete_from_the_trash_of_a_note_not_in_it_is_404(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    live = await create_note(client)
    bobs = await create_note(bob_client)
    await trash(bob_client, bobs)

    for note_id in (live["id"], bobs["id"], 0, TOO_BIG):
        assert_problem(await client.delete(f"/trash/{note_id}"), 404)
    assert await Note.exists(id=live["id"], deleted_at__isnull=True)
    assert await Note.exists(id=bobs["id"], deleted_at__isnull=False)


async def test_emptying_the_trash_deletes_only_the_callers_trashed_notes(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    mine = [await create_note(client, title=f"n{i}") for i in range(3)]
    live = await create_note(client)
    bobs = await create_note(bob_client)
    for note in mine:
        await trash(client, note)
    await trash(bob_client, bobs)

    response = await client.delete("/trash")

    assert response.status_code == 204
    assert (await client.get("/trash")).json()["items"] == []
    assert not await Note.filter(id__in=[note["id"] for note in mine]).exists()
    assert await Note.exists(id=live["id"], deleted_at__isnull=True)
    assert await Note.exists(id=bobs["id"], deleted_at__isnull=False)
    assert (await client.delete("/trash")).status_code == 204  # an empty trash empties again


async def test_emptying_a_large_trash_goes_in_batches_and_misses_none(
    alice: Account, client: httpx.AsyncClient
) -> None:
    response = await client.post("/notes/bulk", json={"notes": [note_payload(title=f"n{i}") for i in range(7)]})
    for note in response.json()["items"]:
        await trash(client, note)

    await empty_trash(owner_id=alice.id, batch_size=3)  # 3 + 3 + 1

    assert not await Note.filter(owner_id=alice.id).exists()


@pytest.mark.parametrize("limit", [1, 2, 5])
async def test_the_trash_pages_most_recently_deleted_first(client: httpx.AsyncClient, limit: int) -> None:
    notes = [await create_note(client, title=f"n{i}") for i in range(5)]
    for note in notes[::2] + notes[1::2]:  # deleted in another order than created
        await trash(client, note)

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/trash", params=params)).json()
        assert len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break

    assert seen == [note["id"] for note in (notes[::2] + notes[1::2])[::-1]]


async def test_a_trash_cursor_works_only_for_the_trash_of_its_user(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    for i in range(3):
        await trash(client, await create_note(client, title=f"n{i}"))
        await trash(bob_client, await create_note(bob_client, title=f"n{i}"))
    await create_note(client)
    await create_note(client)
    trash_cursor = (await client.get("/trash", params={"limit": 1})).json()["next_cursor"]
    notes_cursor = (await client.get("/notes", params={"limit": 1})).json()["next_cursor"]

    assert (await client.get("/trash", params={"cursor": trash_cursor})).status_code == 200
    for cursor in (notes_cursor, trash_cursor[:-2] + "AA", "garbage", "a.b"):
        assert_problem(await client.get("/trash", params={"cursor": cursor}), 422)
    assert_problem(await bob_client.get("/trash", params={"cursor": trash_cursor}), 422)
    assert_problem(await client.get("/notes", params={"cursor": trash_cursor}), 422)


@pytest.mark.parametrize("limit", ["0", "101", "x"])
async def test_a_trash_limit_outside_1_to_100_is_422(client: httpx.AsyncClient, limit: str) -> None:
    assert_problem(await client.get("/trash", params={"limit": limit}), 422)


async def test_the_trash_needs_a_token(anonymous: httpx.AsyncClient) -> None:
    assert_problem(await anonymous.get("/trash"), 401)
    assert_problem(await anonymous.delete("/trash"), 401)
    assert_problem(await anonymous.post("/trash/1/restore"), 401)
    assert_problem(await anonymous.delete("/trash/1"), 401)


async def test_the_purge_deletes_only_notes_past_the_retention(client: httpx.AsyncClient) -> None:
    expired, recent, live = [await create_note(client, title=t) for t in ("expired", "recent", "live")]
    await trash(client, expired)
    await trash(client, recent)
    # Set up a note trashed 31 days ago: the one write to the database a test makes to travel in time.
    await Note.filter(id=expired["id"]).update(deleted_at=datetime.now(UTC) - timedelta(days=31))

    purged = await purge_expired_trash(retention=timedelta(days=30), batch_size=10)

    assert purged == [expired["id"]]
    assert [item["id"] for item in (await client.get("/trash")).json()["items"]] == [recent["id"]]
    assert (await client.get(f"/notes/{live['id']}")).status_code == 200
    assert await purge_expired_trash(retention=timedelta(days=30), batch_size=10) == []


async def test_one_purge_batch_takes_several_owners_notes_and_records_each_owners_change(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    alices, bobs = await create_note(client, title="alice's"), await create_note(bob_client, title="bob's")
    await trash(client, alices)
    await trash(bob_client, bobs)
    feeds = [(await c.get("/notes/changes")).json()["cursor"] for c in (client, bob_client)]

    purged = await purge_expired_trash(retention=timedelta(0), batch_size=10)

    assert sorted(purged) == sorted([alices["id"], bobs["id"]])
    for feed_client, cursor, note in ((client, feeds[0], alices), (bob_client, feeds[1], bobs)):
        changes = (await feed_client.get("/notes/changes", params={"cursor": cursor})).json()["changes"]
        assert changes == [{"type": "delete", "id": note["id"]}]


async def test_the_purge_goes_in_batches_and_misses_none(client: httpx.AsyncClient) -> None:
    notes = (await client.post("/notes/bulk", json={"notes": [note_payload(title=f"n{i}") for i in range(7)]})).json()
    for note in notes["items"]:
        await trash(client, note)

    purged = await purge_expired_trash(retention=timedelta(0), batch_size=2)

    assert sorted(purged) == sorted(note["id"] for note in notes["items"])
    assert (await client.get("/trash")).json()["items"] == []
