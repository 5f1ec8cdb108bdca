"""The trash in the change feed and the webhooks: trashing is a delete, restoring an upsert, purging a
delete again (a tombstone); webhooks hear note.deleted once and note.restored with the note."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from notes_app.config import Settings
from notes_app.notes.models import Note
from notes_app.notes.trash import purge_expired_trash
from notes_app.sync.delivery import DeliveryPolicy, deliver_due_events, new_http_client
from notes_app.sync.models import NoteTombstone, WebhookEvent
from tests.conftest import Account, create_note
from tests.sync.conftest import app_client
from tests.sync.receiver import Receiver, serving
from tests.sync.support import Follower, server_notes


async def changes_after(client: httpx.AsyncClient, cursor: str) -> list[dict[str, Any]]:
    page = (await client.get("/notes/changes", params={"cursor": cursor})).json()
    changes: list[dict[str, Any]] = page["changes"]
    return changes


async def test_a_trashed_note_is_a_delete_and_a_restored_one_an_upsert(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    before = (await client.get("/notes/changes")).json()["cursor"]

    assert (await client.delete(f"/notes/{note['id']}")).status_code == 204
    assert await changes_after(client, before) == [{"type": "delete", "id": note["id"]}]
    trashed = (await client.get("/notes/changes", params={"cursor": before})).json()["cursor"]

    restored = (await client.post(f"/trash/{note['id']}/restore")).json()

    assert restored["version"] == note["version"] + 1
    assert await changes_after(client, trashed) == [{"type": "upsert", "note": restored}]
    # Compacted: from before the trashing, only the latest state.
    assert await changes_after(client, before) == [{"type": "upsert", "note": restored}]


async def test_a_purge_is_a_delete_even_after_the_trashing_was_reported(client: httpx.AsyncClient) -> None:
    kept = await create_note(client, title="kept")
    doomed = await create_note(client, title="doomed")
    await client.delete(f"/notes/{doomed['id']}")
    trashed = (await client.get("/notes/changes")).json()["cursor"]

    assert (await client.delete(f"/trash/{doomed['id']}")).status_code == 204

    assert await changes_after(client, trashed) == [{"type": "delete", "id": doomed["id"]}]
    assert await NoteTombstone.filter(note_id=doomed["id"]).exists()
    assert {"type": "upsert", "note": kept} in (await client.get("/notes/changes")).json()["changes"]


async def test_emptying_the_trash_and_the_periodic_purge_leave_tombstones(client: httpx.AsyncClient) -> None:
    notes = [await create_note(client, title=f"n{i}") for i in range(5)]
    for note in notes:
        await client.delete(f"/notes/{note['id']}")
    cursor = (await client.get("/notes/changes")).json()["cursor"]
    await Note.filter(id__in=[n["id"] for n in notes[:2]]).update(deleted_at=datetime.now(UTC) - timedelta(days=60))

    await purge_expired_trash(retention=timedelta(days=30), batch_size=1)
    assert [c["id"] for c in await changes_after(client, cursor)] == [notes[0]["id"], notes[1]["id"]]
    assert (await client.delete("/trash")).status_code == 204

    assert sorted(c["id"] for c in await changes_after(client, cursor)) == [n["id"] for n in notes]
    assert await NoteTombstone.all().count() == 5


async def test_a_follower_through_trash_restore_and_purge_ends_exact(client: httpx.AsyncClient) -> None:
    follower = Follower(client, limit=2)
    notes = [await create_note(client, title=f"n{i}") for i in range(6)]
    await follower.fetch()
    await client.delete(f"/notes/{notes[0]['id']}")
    await client.delete(f"/notes/{notes[1]['id']}")
    await follower.catch_up()
    await client.post(f"/trash/{notes[0]['id']}/restore")
    await client.delete(f"/trash/{notes[1]['id']}")
    await client.delete(f"/notes/{notes[2]['id']}")
    await client.patch(f"/notes/{notes[3]['id']}", json={"pinned": True})

    await follower.catch_up()

    assert follower.notes == await server_notes(client)
    assert notes[2]["id"] not in follower.notes
    assert notes[0]["id"] in follower.notes


@pytest.fixture
async def hooks(settings: Settings, alice: Account) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, alice, webhook_allow_private_targets=True) as (http, _):
        yield http


async def test_webhooks_hear_a_trashing_once_and_a_restore_with_the_note(hooks: httpx.AsyncClient) -> None:
    policy = DeliveryPolicy(
        retry_base_seconds=100, max_attempts=8, allow_private_targets=True,
        connect_timeout_seconds=60, concurrency=4, poll_seconds=0.05,
    )  # fmt: skip
    async with serving(Receiver()) as receiver, new_http_client(policy) as sender:
        await hooks.post("/webhooks", json={"url": receiver.url()})
        note = await create_note(hooks)
        await hooks.delete(f"/notes/{note['id']}")
        restored = (await hooks.post(f"/trash/{note['id']}/restore")).json()
        await hooks.delete(f"/notes/{note['id']}")
        await hooks.delete(f"/trash/{note['id']}")  # purged after being announced: no second event
        for _ in range(4):
            await deliver_due_events(client=sender, policy=policy)

    events = [orjson.loads(r.body) for r in receiver.received]
    assert [(e["type"], e["data"]) for e in events] == [
        ("note.created", {"note": note}),
        ("note.deleted", {"id": note["id"]}),
        ("note.restored", {"note": restored}),
        ("note.deleted", {"id": note["id"]}),
    ]
    assert await WebhookEvent.all().count() == 4
