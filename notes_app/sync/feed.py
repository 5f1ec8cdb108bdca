"""The change feed: what changed in one owner's notes after a position, compacted, and long polling.

A position is (change_seq, note id) of the last entry a client was given: see recorder.py for why no
change can commit behind it. Each note is one row (its latest state, or its tombstone once purged), so
a page lists each note at most once, in its latest state.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import BaseDBAsyncClient, connections
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.notes.models import Note
from notes_app.notes.schemas import public_note
from notes_app.sync.notifier import ChangeNotifier
from notes_app.users.service import ensure_account_exists

Position = tuple[int, int]  # (change_seq, note id)
START: Position = (0, 0)


class CursorExpired(ProblemError):
    status = 410

    def __init__(self) -> None:
        super().__init__(
            "the cursor is older than the deletions kept (TOMBSTONE_RETENTION_DAYS): "
            "start again without a cursor and replace your copy"
        )


@dataclass(frozen=True)
class FeedPage:
    changes: list[dict[str, Any]]
    position: Position
    has_more: bool


def _note_columns() -> list[str]:
    return list(Note._meta.fields_db_projection.values())


def _feed_sql(dialect: str) -> str:
    """One statement, so one snapshot: the owner's notes and tombstones after the position, merged in
    (change_seq, id) order. Each side reads its own index from the position and stops at `limit`."""
    columns = _note_columns()
    live = ", ".join(f'"{column}"' for column in columns)
    # A tombstone stands in the note's columns: its id and change number, the rest NULL. The NULLs come
    # from a join that never matches, so they have the note columns' types (PostgreSQL types a bare NULL
    # in a subquery as text, which a UNION with jsonb or boolean refuses).
    stand_ins = {"id": '"t"."note_id"', "owner_id": '"t"."owner_id"', "change_seq": '"t"."change_seq"'}
    dead = ", ".join(stand_ins.get(column, '"n".' + f'"{column}"') + f' AS "{column}"' for column in columns)
    # PostgreSQL numbers its parameters; SQLite's `?` are taken in order (read_changes repeats them).
    owner, seq, note_id, limit = ("$1", "$2", "$3", "$4") if dialect == "postgres" else ("?",) * 4
    return (
        f'SELECT * FROM (SELECT {live}, 0 AS "gone" FROM "note" '
        f'WHERE "owner_id" = {owner} AND ("change_seq", "id") > ({seq}, {note_id}) '
        f'ORDER BY "change_seq", "id" LIMIT {limit}) AS "live" '
        "UNION ALL "
        f'SELECT * FROM (SELECT {dead}, 1 AS "gone" FROM "note_tombstone" AS "t" LEFT JOIN "note" AS "n" ON 1 = 0 '
        f'WHERE "t"."owner_id" = {owner} AND ("t"."change_seq", "t"."note_id") > ({seq}, {note_id}) '
        f'ORDER BY "t"."change_seq", "t"."note_id" LIMIT {limit}) AS "dead" '
        f'ORDER BY "change_seq", "id" LIMIT {limit}'
    )


_FEED_SQL: dict[str, str] = {}


def _entry(row: Any) -> dict[str, Any]:
    values = dict(row)
    if values.pop("gone") or values.get("deleted_at") is not None:
        return {"type": "delete", "id": values["id"]}
    return {"type": "upsert", "note": public_note(Note._init_from_db(**values))}


async def _pruned_through(connection: BaseDBAsyncClient, owner_id: int) -> Position:
    placeholder = "$1" if connection.capabilities.dialect == "postgres" else "?"
    _, rows = await connection.execute_query(
        f'SELECT "pruned_through", "pruned_note_id" FROM "change_counter" WHERE "owner_id" = {placeholder}',
        [owner_id],
    )
    return (int(rows[0]["pruned_through"]), int(rows[0]["pruned_note_id"])) if rows else START


async def read_changes(*, owner_id: int, after: Position, limit: int) -> FeedPage:
    connection = connections.get("default")
    dialect = connection.capabilities.dialect
    if (sql := _FEED_SQL.get(dialect)) is None:
        sql = _FEED_SQL[dialect] = _feed_sql(dialect)
    seq, note_id = after
    if dialect == "postgres":
        parameters: list[Any] = [owner_id, seq, note_id, limit + 1]
    else:
        parameters = [owner_id, seq, note_id, limit + 1, owner_id, seq, note_id, limit + 1, limit + 1]
    _, rows = await connection.execute_query(sql, parameters)
    # Read after the page: a prune that committed before the page was read shows here, so a page that
    # may lack a pruned tombstone is refused; one that committed later removed nothing the page lacks.
    if after != START and after < await _pruned_through(connection, owner_id):
        raise CursorExpired()
    if not rows:
        await ensure_account_exists(owner_id)  # an empty page proves nothing about the account
        return FeedPage(changes=[], position=after, has_more=False)
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1]
    return FeedPage(
        changes=[_entry(row) for row in rows],
        position=(int(last["change_seq"]), int(last["id"])),
        has_more=has_more,
    )


async def follow_changes(
    *, owner_id: int, after: Position, limit: int, wait: float, notifier: ChangeNotifier
) -> FeedPage:
    """`read_changes`, and when there are none, wait up to `wait` seconds for some. While waiting the
    request holds no database connection: it sleeps on the notifier's Event and queries once woken."""
    page = await read_changes(owner_id=owner_id, after=after, limit=limit)
    if page.changes or wait <= 0:
        return page
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    async with notifier.waiting_for(owner_id) as woken:
        while True:
            # Cleared before the query: a change committed after it sets the Event again.
            woken.clear()
            page = await read_changes(owner_id=owner_id, after=after, limit=limit)
            remaining = deadline - loop.time()
            if page.changes or remaining <= 0:
                return page
            try:
                async with asyncio.timeout(remaining):
                    await woken.wait()
            except TimeoutError:
                return page


# Tombstones deleted per statement: each batch is one short transaction.
_PRUNE_BATCH = 1000


async def prune_tombstones(*, retention: timedelta) -> int:
    """Delete tombstones older than `retention`, and raise each owner's `pruned_through` in the same
    transaction so cursors that might have needed them get 410. Safe to run in several workers at once."""
    cutoff = datetime.now(UTC) - retention
    pruned = 0
    while True:
        async with in_transaction() as connection:
            if connection.capabilities.dialect == "postgres":
                delete = (
                    'DELETE FROM "note_tombstone" WHERE "note_id" IN (SELECT "note_id" FROM "note_tombstone" '
                    'WHERE "deleted_at" < $1 LIMIT $2 FOR UPDATE SKIP LOCKED) '
                    'RETURNING "owner_id", "change_seq", "note_id"'
                )
                raise_horizon = (
                    'UPDATE "change_counter" SET ("pruned_through", "pruned_note_id") = ($2, $3) '
                    'WHERE "owner_id" = $1 AND ("pruned_through", "pruned_note_id") < ($2, $3)'
                )
            else:
                delete = (
                    'DELETE FROM "note_tombstone" WHERE "note_id" IN (SELECT "note_id" FROM "note_tombstone" '
                    'WHERE "deleted_at" < ? LIMIT ?) RETURNING "owner_id", "change_seq", "note_id"'
                )
                raise_horizon = (
                    'UPDATE "change_counter" SET ("pruned_through", "pruned_note_id") = (?2, ?3) '
                    'WHERE "owner_id" = ?1 AND ("pruned_through", "pruned_note_id") < (?2, ?3)'
                )
            rows = await connection.execute_query_dict(delete, [cutoff, _PRUNE_BATCH])  # RETURNING: see recorder.py
            horizons: dict[int, Position] = {}
            for row in rows:
                owner_id, position = int(row["owner_id"]), (int(row["change_seq"]), int(row["note_id"]))
                horizons[owner_id] = max(position, horizons.get(owner_id, START))
            for owner_id in sorted(horizons):  # one order for every worker: no deadlock between two
                await connection.execute_query(raise_horizon, [owner_id, *horizons[owner_id]])
        pruned += len(rows)
        if len(rows) < _PRUNE_BATCH:
            return pruned
