"""Two writes of one note that race on PostgreSQL, interleaved deterministically.

PATCH and PUT are one statement there (notes_app/notes/postgres_writes.py): it reads the note in its
snapshot, then waits for the row's lock. The race that can lose an update is two statements that both
took their snapshot before either wrote: here the test holds the note's row lock while both requests
start, waits until both are queued behind it, and lets go. The second to get the lock must see the
first one's write (its If-Match and "does anything differ" are checked on the row as it is once
locked, and its change applied on top), never overwrite it from its stale snapshot.

SQLite runs one transaction at a time on its one connection: writes cannot interleave there.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest

from notes_app.config import Settings
from notes_app.notes.models import Note, NoteRevision
from notes_app.sync.models import ChangeCounter
from tests.conftest import Account, assert_problem, asyncpg_dsn, create_note

# Bounds a wait that only a bug would make long (no wall-clock assertion: it fails as a hang would).
HANG_GUARD = 60.0


@pytest.fixture(autouse=True)
def _postgres_only(settings: Settings) -> None:
    if settings.dialect != "postgres":
        pytest.skip("SQLite runs one transaction at a time: two writes cannot interleave")


async def _writes_waiting_on_a_lock(count: int) -> None:
    # From the pool, outside any transaction: pg_stat_activity is read afresh by each statement.
    # The suite has a database of its own and runs one test at a time: the sessions waiting are this test's writes.
    sql = (
        "SELECT count(*) AS waiting FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    # Polled, not awaited on an Event: the state is in the database's sessions.
    async with asyncio.timeout(HANG_GUARD):
        while True:
            if (await Note._meta.db.execute_query_dict(sql))[0]["waiting"] >= count:
                return
            await asyncio.sleep(0.01)


@asynccontextmanager
async def _note_locked(settings: Settings, note_id: int) -> AsyncIterator[None]:
    """Holds the note's row lock (changing nothing) until the block ends."""
    holder = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        async with holder.transaction():
            await holder.execute('SELECT 1 FROM "note" WHERE "id" = $1 FOR UPDATE', note_id)
            yield
    finally:
        await holder.close()


async def _race(
    settings: Settings, note_id: int, *writes: Callable[[], Coroutine[Any, Any, httpx.Response]]
) -> list[httpx.Response]:
    """Start every write while the note is locked, wait until all are queued on its lock, release it."""
    tasks: list[asyncio.Task[httpx.Response]] = []
    try:
        async with _note_locked(settings, note_id):
            for write in writes:
                # One at a time: each is queued on the lock before the next starts, from a snapshot that
                # still shows the note as the holder left it.
                tasks.append(asyncio.create_task(write()))
                await _writes_waiting_on_a_lock(len(tasks))
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()  # only a failed wait leaves any running


def _tag(note: dict[str, Any]) -> str:
    return f'"{note["id"]}-{note["version"]}"'


async def test_two_patches_of_one_note_from_the_same_snapshot_both_apply(
    client: httpx.AsyncClient, settings: Settings, alice: Account
) -> None:
    note = await create_note(client, title="first", body="body")
    path = f"/notes/{note['id']}"
    seq_before = (await ChangeCounter.get(owner_id=alice.id)).seq

    responses = await _race(
        settings,
        note["id"],
        lambda: client.patch(path, json={"title": "renamed"}),
        lambda: client.patch(path, json={"body": "replaced"}),
    )

    assert [response.status_code for response in responses] == [200, 200], [r.text for r in responses]
    assert sorted(response.json()["version"] for response in responses) == [2, 3]
    stored = await Note.get(id=note["id"])
    # Neither write was lost: the later one applied its change on top of the earlier one's.
    assert (stored.title, stored.body, stored.version) == ("renamed", "replaced", 3)
    later = max((response.json() for response in responses), key=lambda answer: answer["version"])
    assert (later["title"], later["body"]) == ("renamed", "replaced")
    # Each write left its own revision and change number.
    revisions = await NoteRevision.filter(note_id=note["id"]).order_by("version")
    assert [revision.version for revision in revisions] == [1, 2, 3]
    assert (await ChangeCounter.get(owner_id=alice.id)).seq == seq_before + 2


async def test_a_patch_back_to_the_value_its_snapshot_shows_is_not_lost_behind_another_write(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # The second PATCH's snapshot shows the title it sends, so "does anything differ" is false there: had
    # that been decided before the lock (as before one-statement writes), it would answer 200 showing the
    # first PATCH's title and write nothing, losing its own change.
    note = await create_note(client, title="first")
    path = f"/notes/{note['id']}"

    responses = await _race(
        settings,
        note["id"],
        lambda: client.patch(path, json={"title": "renamed"}),
        lambda: client.patch(path, json={"title": "first"}),
    )

    assert [response.status_code for response in responses] == [200, 200], [r.text for r in responses]
    # Each answer shows the change it asked for, and the note is what the later of the two wrote.
    assert [response.json()["title"] for response in responses] == ["renamed", "first"]
    later = max((response.json() for response in responses), key=lambda answer: answer["version"])
    stored = await Note.get(id=note["id"])
    assert (stored.title, stored.version) == (later["title"], later["version"]) == ("first", 3)


async def test_a_patch_and_a_put_with_the_same_if_match_from_the_same_snapshot_have_one_winner(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    note = await create_note(client, title="first")
    path = f"/notes/{note['id']}"
    headers = {"If-Match": _tag(note)}

    responses = await _race(
        settings,
        note["id"],
        lambda: client.patch(path, json={"title": "one"}, headers=headers),
        lambda: client.put(path, json={"title": "two"}, headers=headers),
    )

    assert sorted(response.status_code for response in responses) == [200, 412]
    [winner] = [response for response in responses if response.status_code == 200]
    [loser] = [response for response in responses if response.status_code == 412]
    assert_problem(loser, 412)
    # The 412 names the version the winner wrote: the one a retry must send.
    assert loser.headers["etag"] == winner.headers["etag"] == f'"{note["id"]}-2"'
    stored = await Note.get(id=note["id"])
    assert (stored.title, stored.version) == (winner.json()["title"], 2)


async def test_two_identical_patches_from_the_same_snapshot_write_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    note = await create_note(client, title="first")
    path = f"/notes/{note['id']}"

    responses = await _race(
        settings,
        note["id"],
        lambda: client.patch(path, json={"title": "same"}),
        lambda: client.patch(path, json={"title": "same"}),
    )

    # The second finds nothing left to change once it holds the lock: a no-op, answered with the note.
    assert [response.status_code for response in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    assert responses[0].json()["version"] == 2
    assert (await Note.get(id=note["id"])).version == 2
    assert await NoteRevision.filter(note_id=note["id"]).count() == 2


async def test_a_patch_queued_behind_a_delete_is_404(client: httpx.AsyncClient, settings: Settings) -> None:
    note = await create_note(client)
    path = f"/notes/{note['id']}"

    responses = await _race(
        settings,
        note["id"],
        lambda: client.delete(path),
        lambda: client.patch(path, json={"title": "too late"}),
    )

    # The trash's UPDATE takes the same row lock. Whichever came first, the note ends in the trash
    # unchanged by a PATCH answered 404, or changed by a PATCH answered 200 and then trashed.
    deleted, patched = responses
    assert deleted.status_code == 204
    stored = await Note.get(id=note["id"])
    assert stored.deleted_at is not None
    if patched.status_code == 200:
        assert stored.title == "too late"
    else:
        assert_problem(patched, 404)
        assert stored.title == note["title"]
