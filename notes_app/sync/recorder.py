"""What every note change leaves behind, in the writing transaction: a change-feed position (or a
tombstone), a wake-up for long polls, and the webhook outbox events.

Why the feed cannot skip a change
---------------------------------
A follower asks "what changed after position P?". If positions came from a global sequence, an
autoincrement or a clock, a writer could take 41, another 42, and 42 commit first: a follower reading
then sees 42, moves its cursor past 41, and never sees 41 when it commits later.

Here each owner has a counter row (`change_counter`). A writing transaction, after its note write,
advances that counter with one UPDATE (an upsert for the owner's first change) and stamps the number
on the notes it wrote (`note.change_seq`) or on their tombstones. The UPDATE takes the counter row's
lock and holds it until the transaction ends, so the owner's writers pass this point one at a time,
and each commits before the next can take a number: numbers become visible in the order they were
handed out, with no gap left open. A follower's read is one statement, over one snapshot: if it sees
number n committed, every number below n was committed before it, so is in the same snapshot. Its
cursor (the last (change_seq, note id) it was given) therefore never passes a change it has not been
shown. On SQLite the same holds trivially (one writer at a time); the counter keeps the numbering.

Each note row carries only its latest number, and each purged note only its tombstone: the feed
compacts by construction (one entry per note, in its latest state). Notes changed together (a bulk
create) share one number; the cursor's note id orders them.

On PostgreSQL all of it (counter, stamp or tombstones, outbox events, notification) is one statement,
so the counter's lock is held for that statement and the COMMIT only. POST, PUT and PATCH go further:
the note's write and all of its traces are one statement (notes_app/notes/postgres_writes.py), which
locks the note before the counter too. On SQLite it is a few statements.

Lock order, against deadlocks: a transaction locks the notes it writes first and the counter last,
and takes no note lock after the counter. Two writers of one owner can wait on each other's counter,
never in a cycle.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from tortoise import BaseDBAsyncClient

from notes_app.notes.changes import ChangeKind
from notes_app.notes.models import Note
from notes_app.notes.schemas import public_note, timestamp
from notes_app.sync.events import EVENT_BITS, EVENT_OF_CHANGE
from notes_app.sync.notifier import CHANNEL, wake_local_waiters


# pg_notify's payload is the owner's id: listeners wake only that owner's long polls. NOTIFY inside a
# transaction is delivered when it commits (and never if it rolls back), so a woken poll finds the change.
# Data-modifying CTEs all run, referenced or not, over the statement's one snapshot; the later ones read
# the number the counter's RETURNING handed out.
def advance_counter_sql(*, owner: str, notify: str, source: str) -> str:
    """The upsert that advances (or starts) the owner's counter once if `source` has a row, returning
    the new number and notifying the owner's listeners. Shared with notes_app/notes/postgres_writes.py."""
    return f"""INSERT INTO "change_counter" ("owner_id", "seq", "pruned_through", "pruned_note_id")
    SELECT {owner}, 1, 0, 0 FROM {source}
    ON CONFLICT ("owner_id") DO UPDATE SET "seq" = "change_counter"."seq" + 1
    RETURNING "seq", pg_notify('{CHANNEL}', {notify})"""


_RECORD_POSTGRES = f"""
WITH "counter" AS (
    {advance_counter_sql(owner="$1::int", notify="$2", source="(VALUES (1)) AS once")}
), "stamped" AS (
    UPDATE "note" SET "change_seq" = (SELECT "seq" FROM "counter") WHERE "id" = ANY($3::int[]) AND NOT $4
    RETURNING 1
), "buried" AS (
    INSERT INTO "note_tombstone" ("note_id", "owner_id", "change_seq", "deleted_at")
    SELECT "dead", $1, (SELECT "seq" FROM "counter"), $5 FROM unnest($3::int[]) AS "dead" WHERE $4
    RETURNING 1
), "announced" AS (
    INSERT INTO "webhook_event"
        ("webhook_id", "note_id", "type", "payload", "created_at", "attempts", "next_attempt_at")
    SELECT "w"."id", "v"."note_id", $6, "v"."payload", $5, 0, $5
    FROM "webhook" AS "w" CROSS JOIN unnest($7::int[], $8::text[]) WITH ORDINALITY AS "v"("note_id", "payload", "n")
    WHERE "w"."owner_id" = $1 AND ("w"."events" & $9) <> 0
    ORDER BY "v"."n", "w"."id"
    RETURNING 1
)
SELECT "seq" FROM "counter"
"""

_ADVANCE_SQLITE = """
INSERT INTO "change_counter" ("owner_id", "seq", "pruned_through", "pruned_note_id") VALUES (?, 1, 0, 0)
ON CONFLICT ("owner_id") DO UPDATE SET "seq" = "seq" + 1
RETURNING "seq"
"""


def _payload(event_type: str, note: Note, now: datetime) -> str:
    data: dict[str, Any] = {"id": note.id} if event_type == "note.deleted" else {"note": public_note(note)}
    return orjson.dumps({"type": event_type, "timestamp": timestamp(now), "data": data}).decode()


async def _record_sqlite(
    connection: BaseDBAsyncClient,
    *,
    owner_id: int,
    note_ids: list[int],
    purged: bool,
    event_type: str,
    announced: Sequence[Note],
    payloads: list[str],
    now: datetime,
) -> None:
    # execute_query_dict, not execute_query: Tortoise's clients may drop RETURNING rows of an INSERT,
    # UPDATE or DELETE run through execute_query (the asyncpg one always does).
    rows = await connection.execute_query_dict(_ADVANCE_SQLITE, [owner_id])
    seq = rows[0]["seq"]
    marks = ", ".join("?" * len(note_ids))
    if purged:
        values = ", ".join("(?, ?, ?, ?)" for _ in note_ids)
        parameters: list[Any] = []
        for note_id in note_ids:
            parameters += [note_id, owner_id, seq, now]
        await connection.execute_query(
            f'INSERT INTO "note_tombstone" ("note_id", "owner_id", "change_seq", "deleted_at") VALUES {values}',
            parameters,
        )
    else:
        await connection.execute_query(f'UPDATE "note" SET "change_seq" = ? WHERE "id" IN ({marks})', [seq, *note_ids])
    if not announced:
        return
    values = ", ".join("(?, ?, ?)" for _ in announced)
    parameters = [event_type, now, now]
    for position, (note, payload) in enumerate(zip(announced, payloads, strict=True)):
        parameters += [position, note.id, payload]
    parameters += [owner_id, EVENT_BITS[event_type]]
    await connection.execute_query(
        'INSERT INTO "webhook_event" '
        '("webhook_id", "note_id", "type", "payload", "created_at", "attempts", "next_attempt_at") '
        'SELECT "w"."id", "v"."column2", ?, "v"."column3", ?, 0, ? '
        f'FROM "webhook" AS "w" CROSS JOIN (VALUES {values}) AS "v" '
        'WHERE "w"."owner_id" = ? AND ("w"."events" & ?) <> 0 ORDER BY "v"."column1", "w"."id"',
        parameters,
    )


async def record_sync_changes(*, connection: BaseDBAsyncClient, notes: Sequence[Note], kind: ChangeKind) -> None:
    owner_id = notes[0].owner_id
    if any(note.owner_id != owner_id for note in notes):
        raise ValueError("record_changes takes one owner's notes")
    now = datetime.now(UTC)
    note_ids = [note.id for note in notes]
    purged = kind is ChangeKind.PURGED
    # A note purged from the trash was announced as deleted when it was trashed: no second event. Events
    # are one per note for each of the owner's webhooks subscribed to the type; their ids grow in commit
    # order per note (a later change of a note waits for the earlier one's row lock), which is the order
    # the delivery task keeps.
    announced = [note for note in notes if not purged or getattr(note, "deleted_at", None) is None]
    event_type = EVENT_OF_CHANGE[kind]
    payloads = [_payload(event_type, note, now) for note in announced]
    if connection.capabilities.dialect == "postgres":
        parameters = [
            owner_id,
            str(owner_id),
            note_ids,
            purged,
            now,
            event_type,
            [note.id for note in announced],
            payloads,
            EVENT_BITS[event_type],
        ]
        await connection.execute_query_dict(_RECORD_POSTGRES, parameters)
        return
    await _record_sqlite(
        connection,
        owner_id=owner_id,
        note_ids=note_ids,
        purged=purged,
        event_type=event_type,
        announced=announced,
        payloads=payloads,
        now=now,
    )
    # SQLite: waiters in this process are woken now, before the commit. That is safe: Tortoise's SQLite
    # client runs one transaction at a time on its one connection, so a woken poll's query waits for this
    # transaction to end and then sees what it committed (or nothing, after a rollback, and waits again).
    # Other processes notice through PRAGMA data_version (notifier.py).
    wake_local_waiters(owner_id)
