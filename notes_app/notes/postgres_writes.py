"""PostgreSQL: a note's create or update and every trace it leaves, in one statement (one round trip).

A POST used to be a liveness lookup, BEGIN, the INSERT, the revision, the change feed's statement and
COMMIT: six round trips, each costing the event loop and PostgreSQL more than the work in it. Here
the whole write is one statement of data-modifying CTEs, which PostgreSQL runs atomically over one
snapshot: outside a transaction it is its own transaction (autocommit), and inside one (an
Idempotency-Key's, notes_app/idempotency/) it is part of that one. What it writes is exactly what
notes_app/notes/changes.py records for the other write paths: the revision (and the history's
pruning), the owner's change number stamped on the note with a wake-up for long polls, and one outbox
event per subscribed webhook, with the payload `_payload` in notes_app/sync/recorder.py builds in Python
(byte for byte: tests/notes/test_postgres_writes.py).

An update (PUT, PATCH, a revision's restore) is the owned note's lookup too: its first CTE finds the
caller's live note, proving the caller's credential alive in the same WHERE clause (except for a restore,
whose route proved it already through OwnedNote), and locks it (`FOR
NO KEY UPDATE`, the lock the UPDATE takes anyway). A statement that reached the row from a snapshot
older than another writer's commit waits for that writer, and PostgreSQL then re-reads the newest
version of the row and evaluates the CTE again on it (READ COMMITTED's re-check), so the If-Match
condition and "some sent value differs" are decided on the row as it is once locked, and the change
applies on top of the other writer's: no update is lost, and of two writers with one If-Match one wins.
When the note does not qualify (a no-op, a stale If-Match) the statement hands back the locked row
instead, so the caller answers 200 or 412 with no second query; only a note not found (missing, another
owner's, trashed, or a credential no longer alive) leaves it nothing to answer from.

Lock order (notes_app/sync/recorder.py): the note first, the owner's counter last. Only a note that
qualifies advances the counter; a create's note is new, so nobody can wait for it. The counter's lock is
held until the transaction ends: without an Idempotency-Key that is this statement's own commit, with no
round trip to the app in between; with a key, the key's transaction goes on after it
(notes_app/idempotency/service.py's `_first_use` stores the answer and commits: two more round trips),
so the owner's other writes wait for those too.

The statements are written here once per shape (which fields an update sets, with or without
If-Match, which credential it proves alive), cached, and run with fresh parameters through Tortoise's
connection.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

import orjson
from tortoise import BaseDBAsyncClient

from notes_app.notes.returning import note_columns
from notes_app.notes.revisions import PRUNE_EVERY, kept_revisions
from notes_app.notes.schemas import timestamp
from notes_app.sync.events import EVENT_BITS
from notes_app.sync.recorder import advance_counter_sql
from notes_app.users.credentials import SESSION_ALIVE, TOKEN_ALIVE, Caller

# Every writable field and its SQL type: the parameters are cast, since a value in an INSERT's SELECT
# list (or compared with <>) gets no type from its column.
_FIELD_TYPES = {"title": "varchar", "body": "text", "tags": "jsonb", "pinned": "bool", "archived": "bool"}

# Which credential the statement proves alive; None when the caller has proven it already.
Credential = Literal["session", "token"] | None
# A `note` row as the statements return it: every column of the model, jsonb as its text, timestamps as
# aware datetimes (Note._init_from_db(**row) makes the model of it).
NoteRow = dict[str, Any]


class _Parameters:
    """Named values, numbered as PostgreSQL's $n in order of first use."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, name: str, cast: str) -> str:
        if name not in self.names:
            self.names.append(name)
        return f"${self.names.index(name) + 1}::{cast}"


def _json_string(expression: str) -> str:
    return f"to_json({expression})::text"


def _json_timestamp(expression: str) -> str:
    # notes_app.notes.schemas.timestamp: six fractional digits and Z.
    return f"""'"' || to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'"""


def _public_note_json(alias: str) -> str:
    """The note's public JSON (notes_app.notes.schemas.public_note) as orjson writes it: compact, keys
    in that order. PostgreSQL's own json output puts spaces after separators, so it is spelled out."""

    def column(name: str) -> str:
        return f'"{alias}"."{name}"'

    tags = (
        """'[' || coalesce((SELECT string_agg(to_json("t"."tag")::text, ',' ORDER BY "t"."n") """
        f"""FROM jsonb_array_elements_text({column("tags")}) WITH ORDINALITY AS "t"("tag", "n")), '') || ']'"""
    )
    values = {
        "id": column("id"),
        "title": _json_string(column("title")),
        "body": _json_string(column("body")),
        "tags": tags,
        "pinned": column("pinned"),  # a boolean's text is true or false, as in JSON
        "archived": column("archived"),
        "version": column("version"),
        "created_at": _json_timestamp(column("created_at")),
        "updated_at": _json_timestamp(column("updated_at")),
    }
    members = [
        f"""'{"{" if not index else ","}"{name}":' || {value}""" for index, (name, value) in enumerate(values.items())
    ]
    return " || ".join([*members, "'}'"])


def _traces(p: _Parameters, *, prune: bool) -> str:
    """The CTEs after "written" (the note as the write left it): revision, pruning (`prune`: not for a
    create, whose version 1 is never past the history), outbox events."""
    now = p("now", "timestamptz")
    pruned = ""
    if prune:
        kept = p("kept", "int")
        pruned = f"""
), "pruned" AS (
    DELETE FROM "note_revision" AS "r" USING "written" AS "w"
    WHERE "r"."note_id" = "w"."id" AND "w"."version" > {kept} AND "w"."version" % {PRUNE_EVERY} = 0
        AND "r"."version" <= "w"."version" - {kept}
    RETURNING 1"""
    return f"""
, "revision" AS (
    INSERT INTO "note_revision" ("note_id", "version", "title", "body", "tags", "pinned", "archived", "created_at")
    SELECT "id", "version", "title", "body", "tags", "pinned", "archived", "updated_at" FROM "written"
    RETURNING 1{pruned}
), "announced" AS (
    INSERT INTO "webhook_event"
        ("webhook_id", "note_id", "type", "payload", "created_at", "attempts", "next_attempt_at")
    SELECT "h"."id", "n"."id", {p("event_type", "text")},
        {p("payload_head", "text")} || {_public_note_json("n")} || '}}}}', {now}, 0, {now}
    FROM "webhook" AS "h" CROSS JOIN "written" AS "n"
    WHERE "h"."owner_id" = {p("owner", "int")} AND ("h"."events" & {p("event_bits", "int")}) <> 0
    ORDER BY "h"."id"
    RETURNING 1
)"""


def _returning() -> str:
    return ", ".join(f'"note"."{column}"' for column in note_columns())


def _columns() -> str:
    return ", ".join(f'"{column}"' for column in note_columns())


def _alive(p: _Parameters, owner: str, *, session: bool) -> str:
    """The caller's credential, proven alive by the statement that carries this (Caller.alive()'s condition)."""
    return SESSION_ALIVE.format(p("session", "int"), owner) if session else TOKEN_ALIVE.format(p("token_hash", "text"))


@cache
def _create_sql(*, session: bool) -> tuple[str, tuple[str, ...]]:
    p = _Parameters()
    owner = p("owner", "int")
    alive = _alive(p, owner, session=session)
    fields = list(_FIELD_TYPES)
    values = ", ".join(p(name, cast) for name, cast in _FIELD_TYPES.items())
    now = p("now", "timestamptz")
    sql = f"""
WITH "counter" AS (
    {advance_counter_sql(owner=owner, notify=p("owner_text", "text"), source=f'(SELECT 1 WHERE {alive}) AS "alive"')}
), "written" AS (
    INSERT INTO "note" AS "note" ("owner_id", {", ".join(f'"{name}"' for name in fields)},
        "version", "created_at", "updated_at", "change_seq")
    SELECT {owner}, {values}, 1, {now}, {now}, "counter"."seq" FROM "counter"
    RETURNING {_returning()}
){_traces(p, prune=False)}
SELECT * FROM "written"
"""
    return sql, tuple(p.names)


@cache
def _update_sql(fields: tuple[str, ...], *, conditional: bool, credential: Credential) -> tuple[str, tuple[str, ...]]:
    p = _Parameters()
    note_id, owner = p("id", "int"), p("owner", "int")
    alive = f" AND {_alive(p, owner, session=credential == 'session')}" if credential else ""
    version_matches = f'"version" = ANY({p("versions", "int[]")})' if conditional else "true"
    # Nothing sent (PATCH {}) differs from nothing: the note is answered as it is.
    differs = " OR ".join(f'"{name}" <> {p(name, _FIELD_TYPES[name])}' for name in fields) or "false"
    assignments = [f'"{name}" = {p(name, _FIELD_TYPES[name])}' for name in fields]
    assignments += ['"version" = "note"."version" + 1', f'"updated_at" = {p("now", "timestamptz")}']
    columns = _columns()
    sql = f"""
WITH "target" AS (
    SELECT {columns}, {version_matches} AND ({differs}) AS "writable" FROM "note"
    WHERE "id" = {note_id} AND "owner_id" = {owner} AND "deleted_at" IS NULL{alive}
    FOR NO KEY UPDATE
), "counter" AS (
    {advance_counter_sql(owner=owner, notify=p("owner_text", "text"), source='"target" WHERE "writable"')}
), "written" AS (
    UPDATE "note" SET {", ".join(assignments)}, "change_seq" = "counter"."seq"
    FROM "counter" WHERE "note"."id" = {note_id}
    RETURNING {_returning()}
){_traces(p, prune=True)}
SELECT true AS "written", {columns} FROM "written"
UNION ALL
SELECT false, {columns} FROM "target" WHERE NOT "writable"
"""
    return sql, tuple(p.names)


def _payload_head(event_type: str, now: datetime) -> str:
    # notes_app.sync.recorder._payload's envelope, up to where the note's JSON goes.
    envelope = orjson.dumps({"type": event_type, "timestamp": timestamp(now), "data": {"note": None}}).decode()
    return envelope.removesuffix("null}}")


def _db_value(name: str, value: Any) -> Any:
    return orjson.dumps(value).decode() if name == "tags" else value


async def _run(
    connection: BaseDBAsyncClient, compiled: tuple[str, Sequence[str]], values: dict[str, Any]
) -> list[NoteRow]:
    sql, names = compiled
    return await connection.execute_query_dict(sql, [values[name] for name in names])


def _trace_values(*, owner_id: int, event_type: str, now: datetime) -> dict[str, Any]:
    return {
        "owner": owner_id,
        "owner_text": str(owner_id),
        "now": now,
        "event_type": event_type,
        "event_bits": EVENT_BITS[event_type],
        "payload_head": _payload_head(event_type, now),
    }


async def create_note(
    connection: BaseDBAsyncClient, *, caller: Caller, values: dict[str, Any], now: datetime
) -> NoteRow | None:
    """Insert the note with its traces; None when the caller's credential is no longer alive."""
    compiled = _create_sql(session=caller.session_id is not None)
    parameters = {
        **_trace_values(owner_id=caller.id, event_type="note.created", now=now),
        **{name: _db_value(name, value) for name, value in values.items()},
        "session": caller.session_id,
        "token_hash": caller.personal_token_hash,
    }
    rows = await _run(connection, compiled, parameters)
    return rows[0] if rows else None


@dataclass(frozen=True, slots=True)
class Update:
    """What an update statement found: the note as it wrote it, or as it is when it wrote nothing."""

    row: NoteRow
    written: bool


async def update_note(
    connection: BaseDBAsyncClient,
    *,
    note_id: int,
    owner_id: int,
    caller: Caller | None,
    values: dict[str, Any],
    versions: list[int] | None,
    now: datetime,
) -> Update | None:
    """Set `values` on the owner's live note, if it is at one of `versions` (any when None) and some
    value differs, with its traces. None when there is no such note, or when `caller` is given and its
    credential is no longer alive (None: the caller has proven it already)."""
    credential: Credential = None if caller is None else "session" if caller.session_id is not None else "token"
    compiled = _update_sql(tuple(sorted(values)), conditional=versions is not None, credential=credential)
    parameters = {
        **_trace_values(owner_id=owner_id, event_type="note.updated", now=now),
        **{name: _db_value(name, value) for name, value in values.items()},
        "id": note_id,
        "versions": versions,
        "kept": kept_revisions(),
        "session": caller.session_id if caller else None,
        "token_hash": caller.personal_token_hash if caller else None,
    }
    rows = await _run(connection, compiled, parameters)
    if not rows:
        return None
    written = rows[0].pop("written")
    return Update(row=rows[0], written=written)
