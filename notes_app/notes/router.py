"""HTTP routes for notes: parse, call one service function, answer."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request, Response
from tortoise import BaseDBAsyncClient

from notes_app.deps import JsonBody
from notes_app.errors import problem_responses
from notes_app.idempotency.dependencies import (
    KEY_IN_USE_HEADERS,
    REPLAYED_HEADER,
    IdempotencyKeyHeader,
    respond_once,
)
from notes_app.idempotency.service import fingerprint
from notes_app.notes import pages, service
from notes_app.notes.answers import NoteAnswer, answer_from_model
from notes_app.notes.dependencies import NoteId, OwnedNote, Page
from notes_app.notes.etags import if_match_versions, if_none_match_hits
from notes_app.notes.models import Note
from notes_app.notes.schemas import (
    ROW_JSON_OPTIONS,
    NoteBatch,
    NoteBulkCreate,
    NoteCreate,
    NotePage,
    NotePatch,
    NotePublic,
    NoteReplace,
    public_note,
)
from notes_app.users.dependencies import BEARER_SECURITY, CurrentCaller, TokenCaller, token_caller

router = APIRouter(prefix="/notes", tags=["notes"])

_ETAG = {
    "ETag": {
        "description": 'The note\'s version as a strong tag, e.g. `"17-3"`.',
        "schema": {"type": "string"},
    }
}
_NOTE = {"model": NotePublic, "headers": _ETAG}
_NOT_MODIFIED = {"description": "The note still has the tag If-None-Match named.", "headers": _ETAG}
_PRECONDITION_FAILED = {"headers": _ETAG}  # merged into the 412 problem: the current note's tag

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='Change only if the note still has this ETag (e.g. `"17-3"`); otherwise 412.',
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(alias="If-None-Match", description="304 instead of the note when it still has this ETag."),
]
# Routes return orjson bytes built from the row the statement returned (`public_note_row`, notes/answers.py)
# or from the model where the route holds one (`public_note`); NotePublic documents the shape.
_JSON = "application/json"


def _answer(note: NoteAnswer, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        note.json(), status_code=status_code, headers={"ETag": note.etag, **(headers or {})}, media_type=_JSON
    )


def _note_response(note: Note) -> Response:
    """The answer for a route that holds a model (trash, revisions)."""
    return _answer(answer_from_model(note))


def _responses(success: int, body: dict[str, Any] | None, *problems: int) -> dict[int | str, dict[str, Any]]:
    # Every notes route needs an access token and the database: each can answer 401 and 503.
    responses = problem_responses(401, *problems, 503)
    if body is not None:
        responses[success] = body
    if 412 in responses:
        responses[412] = {**responses[412], **_PRECONDITION_FAILED}
    return responses


def _idempotent_responses(success: int, body: dict[str, Any], *problems: int) -> dict[int | str, dict[str, Any]]:
    """The responses of a route that honours Idempotency-Key: a replay is marked, a key in use is 409."""
    responses = _responses(success, body, 409, *problems)
    responses[success] = {**body, "headers": {**body.get("headers", {}), **REPLAYED_HEADER}}
    responses[409] = {
        **responses[409],
        "description": "A request with this Idempotency-Key is still being processed.",
        "headers": KEY_IN_USE_HEADERS,
    }
    return responses


# The first route: FastAPI 0.165 tries a router's routes in turn, twice (to choose the router, then the
# route), at some µs each, and this is the most frequent request. The order changes no answer: no
# path and method is matched by two routes (tests/test_routes.py).
@router.get(
    "/{note_id:id}",
    responses={**_responses(200, _NOTE, 404, 422), 304: _NOT_MODIFIED},
    openapi_extra=BEARER_SECURITY,
)
async def get_note(request: Request, note_id: NoteId, if_none_match: IfNoneMatch = None) -> Response:
    # Neither OwnedNote nor TokenCaller: a read needs no model (service.find_note_answer), and the caller
    # taken here costs no dependency solving.
    note = await service.find_note_answer(caller=await token_caller(request), note_id=note_id)
    if if_none_match_hits(if_none_match, note.etag):
        return Response(status_code=304, headers={"ETag": note.etag})
    return _answer(note)


@router.post(
    "",
    status_code=201,
    dependencies=[JsonBody],
    responses=_idempotent_responses(
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
async def create_note(
    request: Request, data: NoteCreate, caller: TokenCaller, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    async def write(connection: BaseDBAsyncClient | None) -> Response:
        # create_note proves the caller's credential alive (TokenCaller's bargain); respond_once proves it
        # before any answer this does not make (a replay, 409, 422).
        note = await service.create_note(caller=caller, data=data, connection=connection)
        return _answer(note, status_code=201, headers={"Location": f"/notes/{note.id}"})

    return await respond_once(
        request=request,
        caller=caller,
        key=idempotency_key,
        fingerprint=fingerprint(data.model_dump()) if idempotency_key is not None else "",
        write=write,
    )


@router.get("", responses=_responses(200, {"model": NotePage}, 422))
async def list_notes(page: Page, caller: TokenCaller) -> Response:
    # The page's statement proves the caller's credential alive (listing.page_query).
    items, next_cursor = await pages.list_notes(
        caller=caller, filters=page.filters, sort=page.sort, limit=page.limit, after=page.after
    )
    body = {
        "items": items,
        "next_cursor": page.cursors.encode(next_cursor) if next_cursor is not None else None,
    }
    return Response(orjson.dumps(body, option=ROW_JSON_OPTIONS), media_type=_JSON)


@router.post(
    "/bulk",
    status_code=201,
    dependencies=[JsonBody],
    responses=_idempotent_responses(201, {"model": NoteBatch}, 400, 413, 415, 422),
)
async def create_notes(
    request: Request, data: NoteBulkCreate, caller: CurrentCaller, idempotency_key: IdempotencyKeyHeader = None
) -> Response:
    async def write(connection: BaseDBAsyncClient | None) -> Response:
        notes = await service.create_notes(owner_id=caller.id, batch=data.notes, connection=connection)
        body = orjson.dumps({"items": [public_note(note) for note in notes]})
        return Response(body, status_code=201, media_type=_JSON)

    return await respond_once(
        request=request,
        caller=caller,
        key=idempotency_key,
        fingerprint=fingerprint(data.model_dump()) if idempotency_key is not None else "",
        write=write,
    )


@router.put("/{note_id:id}", dependencies=[JsonBody], responses=_responses(200, _NOTE, 400, 404, 412, 413, 415, 422))
async def replace_note(note_id: NoteId, data: NoteReplace, caller: TokenCaller, if_match: IfMatch = None) -> Response:
    # The note is looked up by the write's own statement, which proves the caller's credential alive too
    # (TokenCaller's bargain): no OwnedNote lookup first.
    expected = if_match_versions(if_match, note_id)
    return _answer(await service.replace_note(caller=caller, note_id=note_id, data=data, expected_versions=expected))


@router.patch("/{note_id:id}", dependencies=[JsonBody], responses=_responses(200, _NOTE, 400, 404, 412, 413, 415, 422))
async def patch_note(note_id: NoteId, changes: NotePatch, caller: TokenCaller, if_match: IfMatch = None) -> Response:
    # As replace_note: one statement finds, checks and writes the note.
    expected = if_match_versions(if_match, note_id)
    return _answer(
        await service.patch_note(caller=caller, note_id=note_id, changes=changes, expected_versions=expected)
    )


@router.delete("/{note_id:id}", status_code=204, responses=_responses(204, None, 404, 412, 422))
async def delete_note(note: OwnedNote, if_match: IfMatch = None) -> Response:
    """Moves the note to the trash (`GET /trash`), from where it can be restored until it is purged."""
    await service.trash_note(note=note, expected_versions=if_match_versions(if_match, note.id))
    return Response(status_code=204)
