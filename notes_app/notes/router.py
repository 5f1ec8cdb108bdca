"""HTTP routes for notes: parse, call one service function, answer."""

from typing import Any

import orjson
from fastapi import APIRouter, Response

from notes_app.deps import JsonBody
from notes_app.errors import problem_responses
from notes_app.notes import listing, service
from notes_app.notes.dependencies import OwnedNote, Page
from notes_app.notes.models import Note
from notes_app.notes.schemas import NoteCreate, NotePage, NotePatch, NotePublic, NoteReplace, public_note
from notes_app.users.dependencies import CurrentUser

router = APIRouter(prefix="/notes", tags=["notes"])

_ETAG = {
    "ETag": {
        "description": 'The note\'s version as a strong tag, e.g. `"17-3"`.',
        "schema": {"type": "string"},
    }
}
_NOTE = {"model": NotePublic, "headers": _ETAG}
# Routes return orjson bytes built from the model (`public_note`); NotePublic documents the shape.
_JSON = "application/json"


def _etag(note: Note) -> str:
    return f'"{note.id}-{note.version}"'


def _note_response(note: Note, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(public_note(note)),
        status_code=status_code,
        headers={"ETag": _etag(note), **(headers or {})},
        media_type=_JSON,
    )


def _responses(success: int, body: dict[str, Any] | None, *problems: int) -> dict[int | str, dict[str, Any]]:
    # Every notes route needs an access token, so every one can answer 401.
    return {**({success: body} if body is not None else {}), **problem_responses(401, *problems)}


@router.post(
    "",
    status_code=201,
    dependencies=[JsonBody],
    responses=_responses(
        201,
        {
            **_NOTE,
            "headers": {
                **_ETAG,
                "Location": {"description": "The new note's URL.", "schema": {"type": "string"}},
            },
        },
        400,
        413,
        415,
        422,
    ),
)
async def create_note(data: NoteCreate, user: CurrentUser) -> Response:
    note = await service.create_note(owner=user, data=data)
    return _note_response(note, status_code=201, headers={"Location": f"/notes/{note.id}"})


@router.get("", responses=_responses(200, {"model": NotePage}, 422))
async def list_notes(page: Page, user: CurrentUser) -> Response:
    notes, next_cursor = await listing.list_notes(
        owner=user, filters=page.filters, sort=page.sort, limit=page.limit, after=page.after
    )
    body = {
        "items": [public_note(note) for note in notes],
        "next_cursor": page.cursors.encode(next_cursor) if next_cursor is not None else None,
    }
    return Response(orjson.dumps(body), media_type=_JSON)


@router.get("/{note_id}", responses=_responses(200, _NOTE, 404, 422))
async def get_note(note: OwnedNote) -> Response:
    return _note_response(note)


@router.put("/{note_id}", dependencies=[JsonBody], responses=_responses(200, _NOTE, 400, 404, 413, 415, 422))
async def replace_note(note: OwnedNote, data: NoteReplace) -> Response:
    return _note_response(await service.replace_note(note=note, data=data))


@router.patch("/{note_id}", dependencies=[JsonBody], responses=_responses(200, _NOTE, 400, 404, 413, 415, 422))
async def patch_note(note: OwnedNote, changes: NotePatch) -> Response:
    return _note_response(await service.patch_note(note=note, changes=changes))


@router.delete("/{note_id}", status_code=204, responses=_responses(204, None, 404, 422))
async def delete_note(note: OwnedNote) -> Response:
    await service.delete_note(note=note)
    return Response(status_code=204)
