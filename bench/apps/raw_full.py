"""raw_asyncpg + the real service's extras: JWT (async dependency, app-wide), ETag on GET responses,
pure-ASGI request-id middleware. Same SQL / orjson as raw_asyncpg: the fair floor for a service with
those features.

Copied from shared/bench/apps (2026-11-25): only formatting and the default DSN changed.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from apps._features import RequestIdMiddleware, current_user, etag_response, json_response

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/notes_bench_baseline")
POOL_SIZE = int(os.environ.get("POOL_SIZE", "5"))
COLS = "id, title, body, created_at, updated_at"
SQL_GET = f"SELECT {COLS} FROM note WHERE id = $1"
SQL_LIST = f"SELECT {COLS} FROM note ORDER BY id LIMIT $1 OFFSET $2"
NEW_COLS = "title, body, created_at, updated_at"
SQL_INSERT = f"INSERT INTO note ({NEW_COLS}) VALUES ($1, $2, now(), now()) RETURNING {COLS}"
# PATCH (added for notes_app's PATCH workload): the sent fields, in one statement that returns the note.
SQL_PATCH = (
    "UPDATE note SET title = COALESCE($2, title), body = COALESCE($3, body), updated_at = now()"
    f" WHERE id = $1 RETURNING {COLS}"
)


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = ""


class NotePatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DATABASE_URL, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan, dependencies=[Depends(current_user)])
app.add_middleware(RequestIdMiddleware)


@app.get("/notes/{note_id}")
async def read_note(request: Request, note_id: int = Path(ge=1, le=2**31 - 1)) -> Response:
    row = await request.app.state.pool.fetchrow(SQL_GET, note_id)
    if row is None:
        return json_response({"detail": "Note not found"}, 404)
    return etag_response(request, dict(row))


@app.get("/notes")
async def list_notes(
    request: Request,
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> Response:
    rows = await request.app.state.pool.fetch(SQL_LIST, limit, offset)
    return etag_response(request, [dict(r) for r in rows])


@app.post("/notes", status_code=201)
async def create_note(request: Request, payload: NoteIn) -> Response:
    row = await request.app.state.pool.fetchrow(SQL_INSERT, payload.title, payload.body)
    return json_response(dict(row), 201)


@app.patch("/notes/{note_id}")
async def patch_note(request: Request, payload: NotePatch, note_id: int = Path(ge=1, le=2**31 - 1)) -> Response:
    row = await request.app.state.pool.fetchrow(SQL_PATCH, note_id, payload.title, payload.body)
    if row is None:
        return json_response({"detail": "Note not found"}, 404)
    return etag_response(request, dict(row))
