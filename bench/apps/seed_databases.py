"""Baseline: the `databases` + SQLAlchemy Core approach popularised by the well-known FastAPI blog
post (connect/disconnect tied to app start/stop). Only change from the post: the lifespan context
replaces the deprecated @app.on_event("startup"/"shutdown") hooks; behaviour is the same.

Copied from shared/bench/apps (2026-11-25): only formatting and the default DSN changed.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from databases import Database
from fastapi import FastAPI, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/notes_bench_baseline")
POOL_SIZE = int(os.environ.get("POOL_SIZE", "5"))

metadata = MetaData()
notes = Table(
    "note",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

database = Database(DATABASE_URL, min_size=POOL_SIZE, max_size=POOL_SIZE)


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = ""


class NotePatch(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = None


class NoteOut(BaseModel):
    id: int
    title: str
    body: str
    created_at: datetime
    updated_at: datetime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await database.connect()
    yield
    await database.disconnect()


app = FastAPI(lifespan=lifespan)


@app.get("/notes/{note_id}", response_model=NoteOut)
async def read_note(note_id: int = Path(ge=1, le=2**31 - 1)) -> Any:
    row = await database.fetch_one(notes.select().where(notes.c.id == note_id))
    if row is None:
        raise HTTPException(status_code=404, detail="Note not found")
    return row


@app.get("/notes", response_model=list[NoteOut])
async def list_notes(
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> Any:
    query = notes.select().order_by(notes.c.id).limit(limit).offset(offset)
    return await database.fetch_all(query)


@app.post("/notes", response_model=NoteOut, status_code=201)
async def create_note(payload: NoteIn) -> Any:
    now = func.now()
    query = (
        notes.insert()
        .values(title=payload.title, body=payload.body, created_at=now, updated_at=now)
        .returning(*notes.c)
    )
    return await database.fetch_one(query)


# Added for notes_app's PATCH workload, in the same style: the sent fields, one UPDATE ... RETURNING.
@app.patch("/notes/{note_id}", response_model=NoteOut)
async def patch_note(payload: NotePatch, note_id: int = Path(ge=1, le=2**31 - 1)) -> Any:
    query = (
        notes.update()
        .where(notes.c.id == note_id)
        .values(**payload.model_dump(exclude_unset=True), updated_at=func.now())
        .returning(*notes.c)
    )
    row = await database.fetch_one(query)
    if row is None:
        raise HTTPException(status_code=404, detail="Note not found")
    return row
