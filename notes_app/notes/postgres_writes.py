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

Lock order (notes_app/sync/recorder.py): the note first, the owner's counter last. An update locks its
note in the first CTE (`FOR UPDATE`, re-checking the If-Match and "some value differs" conditions on
the newest version of the row), and only a note that still matches advances the counter; a create's
note is new, so nobody can wait for it. The counter's lock is held until the transaction ends: without
an Idempotency-Key that is this statement's own commit, with no round trip to the app in between; with a
key, the key's transaction goes on after it (notes_app/idempotency/service.py's `_first_use` stores the
answer and commits: two more round trips), so the owner's other writes wait for those too.

The statements are written here once per shape (which fields an update sets, with or without
If-Match, session or token), cached, and run with fresh parameters through Tortoise's connection.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from tortoise import BaseDBAsyncClient

from notes_app.notes.models import Note
from notes_app.notes.returning import note_columns
from notes_app.notes.revisions import PRUNE_EVERY, kept_revisions
from notes_app.notes.schemas import timestamp
from notes_app.sync.events import EVENT_BITS
from notes_app.sync.recorder import advance_counter_sql
from notes_app.users.credentials import SESSION_ALIVE, TOKEN_ALIVE, Caller

# Every writable field and its SQL type: the parameters are cast, since a value in an INSERT's SELECT
# list (or compared with <>) gets no type from its column.
_FIELD_TYPES = {"title": "varchar", "body": "text", "tags": "jsonb", "pinned": "bool", "archived": "bool"}


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


def _traces(p: _Parameters) -> str:
    """The CTEs after "written" (the note as the write left it): revision, pruning, outbox events."""
    kept, now = p("kept", "int"), p("now", "timestamptz")
    return f"""
, "revision" AS (
    INSERT INTO "note_revision" ("note_id", "version", "title", "body", "tags", "pinned", "archived", "created_at")
    SELECT "id", "version", "title", "body", "tags", "pinned", "archived", "updated_at" FROM "written"
    RETURNING 1
), "pruned" AS (
    DELETE FROM "note_revision" AS "r" USING "written" AS "w"
    WHERE "r"."note_id" = "w"."id" AND "w"."version" > {kept} AND "w"."version" % {PRUNE_EVERY} = 0
        AND "r"."version" <= "w"."version" - {kept}
    RETURNING 1
), "announced" AS (
    INSERT INTO "webhook_event"
        ("webhook_id", "note_id", "type", "payload", "created_at", "attempts", "next_attempt_at")
    SELECT "h"."id", "n"."id", {p("event_type", "text")},
        {p("payload_head", "text")} || {_public_note_json("n")} || '}}}}', {now}, 0, {now}
    FROM "webhook" AS "h" CROSS JOIN "written" AS "n"
    WHERE "h"."owner_id" = {p("owner", "int")} AND ("h"."events" & {p("event_bits", "int")}) <> 0
    ORDER BY "h"."id"
    RETURNING 1
)
SELECT * FROM "written"
"""


def _returning() -> str:
    return ", ".join(f'"note"."{column}"' for column in note_columns())


@cache
def _create_sql(*, session: bool) -> tuple[str, tuple[str, ...]]:
    p = _Parameters()
    owner = p("owner", "int")
    # The caller's credential, proven alive by this statement (Caller.alive()'s condition).
    alive = SESSION_ALIVE.format(p("session", "int"), owner) if session else TOKEN_ALIVE.format(p("token_hash", "text"))
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
){_traces(p)}"""
    return sql, tuple(p.names)


@cache
def _update_sql(fields: tuple[str, ...], *, conditional: bool) -> tuple[str, tuple[str, ...]]:
    p = _Parameters()
    note_id, owner = p("id", "int"), p("owner", "int")
    versions = f' AND "version" = ANY({p("versions", "int[]")})' if conditional else ""
    differs = " OR ".join(f'"{name}" <> {p(name, _FIELD_TYPES[name])}' for name in fields)
    assignments = ", ".join(f'"{name}" = {p(name, _FIELD_TYPES[name])}' for name in fields)
    sql = f"""
WITH "target" AS (
    SELECT "id" FROM "note"
    WHERE "id" = {note_id} AND "owner_id" = {owner} AND "deleted_at" IS NULL{versions} AND ({differs})
    FOR UPDATE
), "counter" AS (
    {advance_counter_sql(owner=owner, notify=p("owner_text", "text"), source='"target"')}
), "written" AS (
    UPDATE "note" SET {assignments}, "version" = "note"."version" + 1, "updated_at" = {p("now", "timestamptz")},
        "change_seq" = "counter"."seq"
    FROM "counter" WHERE "note"."id" = {note_id}
    RETURNING {_returning()}
){_traces(p)}"""
    return sql, tuple(p.names)


def _payload_head(event_type: str, now: datetime) -> str:
    # notes_app.sync.recorder._payload's envelope, up to where the note's JSON goes.
    envelope = orjson.dumps({"type": event_type, "timestamp": timestamp(now), "data": {"note": None}}).decode()
    return envelope.removesuffix("null}}")


def _db_value(name: str, value: Any) -> Any:
    return orjson.dumps(value).decode() if name == "tags" else value


async def _run(
    connection: BaseDBAsyncClient, compiled: tuple[str, Sequence[str]], values: dict[str, Any]
) -> Note | None:
    sql, names = compiled
    rows = await connection.execute_query_dict(sql, [values[name] for name in names])
    return Note._init_from_db(**rows[0]) if rows else None


def _trace_values(*, owner_id: int, event_type: str, now: datetime) -> dict[str, Any]:
    return {
        "owner": owner_id,
        "owner_text": str(owner_id),
        "now": now,
        "kept": kept_revisions(),
        "event_type": event_type,
        "event_bits": EVENT_BITS[event_type],
        "payload_head": _payload_head(event_type, now),
    }


async def create_note(
    connection: BaseDBAsyncClient, *, caller: Caller, values: dict[str, Any], now: datetime
) -> Note | None:
    """Insert the note with its traces; None when the caller's credential is no longer alive."""
    compiled = _create_sql(session=caller.session_id is not None)
    parameters = {
        **_trace_values(owner_id=caller.id, event_type="note.created", now=now),
        **{name: _db_value(name, value) for name, value in values.items()},
        "session": caller.session_id,
        "token_hash": caller.personal_token_hash,
    }
    return await _run(connection, compiled, parameters)


async def update_note(
    connection: BaseDBAsyncClient,
    *,
    note: Note,
    values: dict[str, Any],
    versions: list[int] | None,
    now: datetime,
) -> Note | None:
    """Set `values` on the live note, if it is at one of `versions` (any when None) and some value
    differs, with its traces; the note as written, or None when nothing was written."""
    compiled = _update_sql(tuple(sorted(values)), conditional=versions is not None)
    parameters = {
        **_trace_values(owner_id=note.owner_id, event_type="note.updated", now=now),
        **{name: _db_value(name, value) for name, value in values.items()},
        "id": note.id,
        "versions": versions,
    }
    return await _run(connection, compiled, parameters)
