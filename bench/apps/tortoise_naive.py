"""Baseline: a straightforward Tortoise ORM app, as its FastAPI example shows it: register_tortoise,
pydantic_model_creator schemas, from_tortoise_orm / from_queryset for responses. No tuning beyond
giving the pool the same size as the other apps (Tortoise's own default is minsize=1, maxsize=5).

Copied from shared/bench/apps (2026-11-25): only formatting and the default DSN changed.
"""

import os
from typing import Any

from fastapi import FastAPI, HTTPException, Path, Query
from tortoise import fields
from tortoise.contrib.fastapi import register_tortoise
from tortoise.contrib.pydantic import pydantic_model_creator
from tortoise.models import Model

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/notes_bench_baseline"
DATABASE_URL = os.environ.get("DATABASE_URL", DEFAULT_URL).replace("postgresql://", "postgres://", 1)
POOL_SIZE = int(os.environ.get("POOL_SIZE", "5"))


class Note(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    body = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "note"


Note_Pydantic = pydantic_model_creator(Note, name="Note")
NoteIn_Pydantic = pydantic_model_creator(Note, name="NoteIn", exclude_readonly=True)
NotePatch_Pydantic = pydantic_model_creator(Note, name="NotePatch", exclude_readonly=True, optional=("title", "body"))

app = FastAPI()


@app.get("/notes/{note_id}", response_model=Note_Pydantic)
async def read_note(note_id: int = Path(ge=1, le=2**31 - 1)) -> Any:
    note = await Note.get_or_none(id=note_id)
    if note is None:
        raise HTTPException(status_code=404, detail="Note not found")
    return await Note_Pydantic.from_tortoise_orm(note)


@app.get("/notes", response_model=list[Note_Pydantic])
async def list_notes(
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> Any:
    return await Note_Pydantic.from_queryset(Note.all().order_by("id").offset(offset).limit(limit))


@app.post("/notes", response_model=Note_Pydantic, status_code=201)
async def create_note(payload: NoteIn_Pydantic) -> Any:  # type: ignore[valid-type]
    note = await Note.create(**payload.model_dump(exclude_unset=True))
    return await Note_Pydantic.from_tortoise_orm(note)


# Added for notes_app's PATCH workload, the way the ORM's examples update: read, set, save.
@app.patch("/notes/{note_id}", response_model=Note_Pydantic)
async def patch_note(payload: NotePatch_Pydantic, note_id: int = Path(ge=1, le=2**31 - 1)) -> Any:  # type: ignore[valid-type]
    note = await Note.get_or_none(id=note_id)
    if note is None:
        raise HTTPException(status_code=404, detail="Note not found")
    await note.update_from_dict(payload.model_dump(exclude_unset=True)).save()
    return await Note_Pydantic.from_tortoise_orm(note)


register_tortoise(
    app,
    db_url=f"{DATABASE_URL}?minsize={POOL_SIZE}&maxsize={POOL_SIZE}",
    modules={"models": [__name__]},
    generate_schemas=False,
)
