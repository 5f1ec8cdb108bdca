"""The fair floor: notes_app's own answers and durable work, hand-written with asyncpg.

It runs on notes_app's schema in notes_app's database (same tables, same indexes), takes notes_app's
own access tokens, and answers what notes_app answers for the routes the bench loads (bench/test_parity.py
proves it): GET /notes/{id} (9 fields, ETag "id-version", 304 on If-None-Match), GET /notes?limit=&cursor=
(the owner's keyset page on (updated_at, id), newest first, with notes_app's signed cursors), POST /notes
and PATCH /notes/{id} (If-Match), each doing in ONE statement what notes_app's write does in its
transaction: the note, its revision (pruned like notes_app's history), the owner's change counter and the
note's change_seq, pg_notify for long polls, and one outbox row per subscribed webhook. bench/README.md
says statement by statement what each sends.

Input is validated by notes_app's own pydantic schemas (NoteCreate, NotePatch): the same rules at the
same cost, and what is measured here is the path to the database and back. Not done here (so counted
against notes_app): metrics, the access log, the body-size limit, the 415 media-type check, idempotency
keys (the bench sends none, so notes_app does no work for them either), personal access tokens.

Settings from the environment: DATABASE_URL (notes_app's database), POOL_SIZE, SECRET_KEY (notes_app's,
for its tokens and cursors), REVISIONS_PER_NOTE (notes_app's default 100).
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.responses import Response

from apps._cursors import Cursors, InvalidCursor
from apps._features import (
    JSON,
    CurrentCaller,
    LastUsed,
    Problem,
    RequestIdMiddleware,
    Tokens,
    if_match_versions,
    if_none_match_hits,
    note_response,
    problem_handler,
    public_note,
    unauthorized,
)
from notes_app.notes.schemas import NoteCreate, NotePatch

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/notes_bench")
POOL_SIZE = int(os.environ.get("POOL_SIZE", "5"))
SECRET_KEY = os.environ["SECRET_KEY"]
KEPT_REVISIONS = int(os.environ.get("REVISIONS_PER_NOTE", "100"))
PRUNE_EVERY = 16  # notes_app/notes/revisions.py: old revisions are deleted every 16th version

COLS = '"id", "title", "body", "tags", "pinned", "archived", "version", "created_at", "updated_at"'
# The caller's session still exists (so the account does): notes_app puts the same EXISTS in its statements.
ALIVE = 'EXISTS (SELECT 1 FROM "user_session" WHERE "id" = $2 AND "user_id" = $1)'
SQL_ALIVE = 'SELECT EXISTS (SELECT 1 FROM "user_session" WHERE "id" = $2 AND "user_id" = $1)'
SQL_GET = f'SELECT {COLS} FROM "note" WHERE "id" = $3 AND "owner_id" = $1 AND "deleted_at" IS NULL AND {ALIVE}'
# The owner's live, unarchived notes, newest first; one row more than the page tells whether another
# follows. The cursor condition is notes_app's spelling (a bare range on updated_at first), which the
# partial index (owner_id, archived, updated_at, id) WHERE deleted_at IS NULL answers from the cursor on.
_PAGE = f'SELECT {COLS} FROM "note" WHERE "owner_id" = $1 AND "archived" = false AND "deleted_at" IS NULL AND {ALIVE}'
SQL_FIRST_PAGE = f'{_PAGE} ORDER BY "updated_at" DESC, "id" DESC LIMIT $3'
SQL_NEXT_PAGE = (
    f'{_PAGE} AND "updated_at" <= $4 AND ("updated_at" < $4 OR "id" < $5)'
    ' ORDER BY "updated_at" DESC, "id" DESC LIMIT $3'
)


def _json_ts(column: str) -> str:
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _event_payload(event: str, note: str, now: str) -> str:
    """The webhook event's JSON (notes_app/sync/recorder.py's _payload), built in SQL: only for the rows
    of subscribed webhooks, so a user without webhooks pays nothing for it."""
    fields = ", ".join(
        f"'{name}', {note}.\"{name}\"" for name in ("id", "title", "body", "tags", "pinned", "archived", "version")
    )
    note_json = f"json_build_object({fields}, 'created_at', {_json_ts(note + '.created_at')}, " \
                f"'updated_at', {_json_ts(note + '.updated_at')})"  # fmt: skip
    return (
        f"json_build_object('type', '{event}', 'timestamp', {_json_ts(now)}, "
        f"'data', json_build_object('note', {note_json}))::text"
    )


def _outbox(event: str, bit: int, note: str, now: str) -> str:
    """One outbox row per webhook of the owner subscribed to `event` (bit `bit` of webhook.events)."""
    return f"""INSERT INTO "webhook_event"
        ("webhook_id", "note_id", "type", "payload", "created_at", "attempts", "next_attempt_at")
    SELECT "w"."id", {note}."id", '{event}', {_event_payload(event, note, now)}, {now}, 0, {now}
    FROM "webhook" AS "w" CROSS JOIN {note}
    WHERE "w"."owner_id" = $1 AND ("w"."events" & {bit}) <> 0
    ORDER BY "w"."id\""""


def _counter(source: str) -> str:
    """Advance the owner's change counter, once, when `source` has a row; notify the owner's long polls
    (delivered at commit). The counter row's lock serialises the owner's writers until commit: that is
    what keeps the change feed from skipping (notes_app/sync/recorder.py)."""
    return f"""INSERT INTO "change_counter" ("owner_id", "seq", "pruned_through", "pruned_note_id")
    SELECT $1, 1, 0, 0 FROM {source}
    ON CONFLICT ("owner_id") DO UPDATE SET "seq" = "change_counter"."seq" + 1
    RETURNING "seq", pg_notify('notes_changes', $1::int4::text)"""


_REVISION = """INSERT INTO "note_revision"
        ("note_id", "version", "title", "body", "tags", "pinned", "archived", "created_at")
    SELECT "id", "version", "title", "body", "tags", "pinned", "archived", "updated_at" FROM "written\""""

# POST: $1 owner, $2 session, $3 title, $4 body, $5 tags, $6 pinned, $7 archived, $8 now.
SQL_CREATE = f"""
WITH "alive" AS (SELECT 1 WHERE {ALIVE}),
"counter" AS ({_counter('"alive"')}),
"written" AS (
    INSERT INTO "note" ("owner_id", "title", "body", "tags", "pinned", "archived", "version", "created_at",
                        "updated_at", "change_seq")
    SELECT $1, $3, $4, $5::jsonb, $6, $7, 1, $8, $8, "seq" FROM "counter"
    RETURNING {COLS}
),
"revision" AS ({_REVISION}),
"event" AS ({_outbox("note.created", 1, '"written"', "$8::timestamptz")})
SELECT {COLS} FROM "written"
"""

# PATCH: $1 owner, $2 session, $3 note id, $4..$8 title, body, tags, pinned, archived (NULL: not sent),
# $9 the versions If-Match accepts (NULL: no condition), $10 now, $11 revisions kept.
_SENT_DIFFERS = " OR ".join(
    f'(${n}::{kind} IS NOT NULL AND {{t}}"{name}" <> ${n}::{kind})'
    for n, name, kind in ((4, "title", "varchar"), (5, "body", "text"), (6, "tags", "jsonb"), (7, "pinned", "bool"),
                          (8, "archived", "bool"))
)  # fmt: skip
_WRITABLE = '($9::int[] IS NULL OR {t}"version" = ANY($9::int[])) AND (' + _SENT_DIFFERS + ")"
SQL_PATCH = f"""
WITH "target" AS (
    SELECT {COLS} FROM "note" WHERE "id" = $3 AND "owner_id" = $1 AND "deleted_at" IS NULL AND {ALIVE}
),
"counter" AS ({_counter('"target" WHERE ' + _WRITABLE.format(t='"target".'))}),
"written" AS (
    UPDATE "note" SET
        "title" = COALESCE($4::varchar, "title"), "body" = COALESCE($5::text, "body"),
        "tags" = COALESCE($6::jsonb, "tags"), "pinned" = COALESCE($7::bool, "pinned"),
        "archived" = COALESCE($8::bool, "archived"),
        "version" = "version" + 1, "updated_at" = $10, "change_seq" = (SELECT "seq" FROM "counter")
    WHERE "id" = $3 AND "owner_id" = $1 AND "deleted_at" IS NULL AND EXISTS (SELECT 1 FROM "counter")
      AND {_WRITABLE.format(t="")}
    RETURNING {COLS}
),
"revision" AS ({_REVISION}),
"pruned" AS (
    DELETE FROM "note_revision" WHERE "note_id" = $3
      AND "version" <= (SELECT "version" FROM "written" WHERE "version" > $11 AND "version" % {PRUNE_EVERY} = 0) - $11
),
"event" AS ({_outbox("note.updated", 2, '"written"', "$10::timestamptz")})
SELECT true AS "written", {COLS} FROM "written"
UNION ALL
SELECT false, {COLS} FROM "target" WHERE NOT EXISTS (SELECT 1 FROM "written")
"""
SQL_CURRENT = f'SELECT {COLS} FROM "note" WHERE "id" = $2 AND "owner_id" = $1 AND "deleted_at" IS NULL'


async def _init_connection(connection: asyncpg.Connection) -> None:
    # jsonb in and out as Python values via orjson, as Tortoise's JSONField gives them to notes_app.
    await connection.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads
    )


async def _no_reset(connection: asyncpg.Connection) -> None:
    """No reset query on release, as notes_app (notes_app/postgres_client.py): no session state is kept."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        DATABASE_URL, min_size=POOL_SIZE, max_size=POOL_SIZE, init=_init_connection, reset=_no_reset
    )
    app.state.last_used.pool = app.state.pool
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)
app.state.tokens = Tokens(SECRET_KEY)
app.state.last_used = LastUsed()
app.state.cursors = Cursors(SECRET_KEY)
app.add_middleware(RequestIdMiddleware)
app.add_exception_handler(Problem, problem_handler)


async def _not_found(pool: asyncpg.Pool, caller: Any, note_id: int) -> Problem:
    """404, unless the caller's session is gone (401): the second query only when nothing was found."""
    if not await pool.fetchval(SQL_ALIVE, caller.user_id, caller.session_id):
        return unauthorized("the credentials have been revoked: sign in again")
    return Problem(404, f"note {note_id} does not exist")


NoteId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@app.get("/notes/{note_id}")
async def read_note(
    request: Request,
    note_id: NoteId,
    caller: CurrentCaller,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    pool = request.app.state.pool
    row = await pool.fetchrow(SQL_GET, caller.user_id, caller.session_id, note_id)
    if row is None:
        raise await _not_found(pool, caller, note_id)
    if if_none_match_hits(if_none_match, row):
        return Response(status_code=304, headers={"ETag": f'"{row[0]}-{row[6]}"'})
    return note_response(row)


@app.get("/notes")
async def list_notes(
    request: Request,
    caller: CurrentCaller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    pool, cursors = request.app.state.pool, request.app.state.cursors
    if cursor is None:
        rows = await pool.fetch(SQL_FIRST_PAGE, caller.user_id, caller.session_id, limit + 1)
    else:
        try:
            updated_at, after_id = cursors.decode(caller.user_id, cursor)
        except InvalidCursor:
            raise Problem(422, "the cursor is not valid for this list") from None
        rows = await pool.fetch(SQL_NEXT_PAGE, caller.user_id, caller.session_id, limit + 1, updated_at, after_id)
    if not rows and not await pool.fetchval(SQL_ALIVE, caller.user_id, caller.session_id):
        raise unauthorized("the credentials have been revoked: sign in again")
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode(caller.user_id, rows[-1][8], rows[-1][0])
    body = {"items": [public_note(row) for row in rows], "next_cursor": next_cursor}
    return Response(orjson.dumps(body), media_type=JSON)


@app.post("/notes", status_code=201)
async def create_note(request: Request, data: NoteCreate, caller: CurrentCaller) -> Response:
    pool = request.app.state.pool
    row = await pool.fetchrow(
        SQL_CREATE, caller.user_id, caller.session_id, data.title, data.body, data.tags, data.pinned, data.archived,
        datetime.now(UTC),
    )  # fmt: skip
    if row is None:
        raise unauthorized("the credentials have been revoked: sign in again")
    return note_response(row, 201, {"Location": f"/notes/{row[0]}"})


@app.patch("/notes/{note_id}")
async def patch_note(
    request: Request,
    note_id: NoteId,
    changes: NotePatch,
    caller: CurrentCaller,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    pool = request.app.state.pool
    versions = if_match_versions(if_match, note_id)
    sent = changes.model_dump(exclude_unset=True)
    values = [sent.get(name) for name in ("title", "body", "tags", "pinned", "archived")]
    rows = await pool.fetch(
        SQL_PATCH, caller.user_id, caller.session_id, note_id, *values, versions, datetime.now(UTC), KEPT_REVISIONS
    )
    if not rows:
        raise await _not_found(pool, caller, note_id)
    written, note = rows[0][0], tuple(rows[0])[1:]
    if written:
        return note_response(note)
    # Nothing written. The statement's snapshot says why, unless a concurrent writer moved the note
    # between the snapshot and the row lock: then read it again, as notes_app reads after its UPDATE.
    if versions is None or note[6] in versions:
        differs = any(value is not None and value != note[i] for i, value in enumerate(values, start=1))
        if differs:
            note = await pool.fetchrow(SQL_CURRENT, caller.user_id, note_id)
            if note is None:
                raise Problem(404, f"note {note_id} does not exist")
    if versions is not None and note[6] not in versions:
        raise Problem(
            412, f"note {note_id} is at version {note[6]}: fetch it again and retry", {"ETag": f'"{note[0]}-{note[6]}"'}
        )
    return note_response(note)
