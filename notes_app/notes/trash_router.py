"""HTTP routes for the trash: list it, restore a note, delete one or all for good."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from notes_app.notes import trash
from notes_app.notes.pagination import Cursor, CursorSigner, InvalidCursor, cursor_key
from notes_app.notes.router import _JSON, _NOTE, _note_response, _responses
from notes_app.notes.schemas import TrashPage, trashed_note
from notes_app.users.dependencies import CurrentCaller

router = APIRouter(prefix="/trash", tags=["trash"])

TrashedId = Annotated[int, Path(description="The id of a note in the trash.")]


def _signer(request: Request, owner_id: int) -> CursorSigner:
    key = cursor_key(request.app.state.token_issuer.key)
    return CursorSigner(key=key, listing=orjson.dumps(["trash", owner_id]))


def _after(signer: CursorSigner, cursor: str | None) -> Cursor | None:
    if cursor is None:
        return None
    try:
        return signer.decode(cursor)  # (deleted_at, id): the shape of a listing's cursor
    except InvalidCursor:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": "the cursor is not valid for this list", "type": "cursor_invalid"}]
        ) from None


@router.get("", responses=_responses(200, {"model": TrashPage}, 422))
async def list_trash(
    request: Request,
    caller: CurrentCaller,
    limit: Annotated[int, Query(ge=1, le=100, description="Notes per page.")] = 20,
    cursor: Annotated[str | None, Query(max_length=200, description="The previous page's `next_cursor`.")] = None,
) -> Response:
    """Every trashed note of the caller, archived or not, most recently deleted first."""
    signer = _signer(request, caller.id)
    notes, next_after = await trash.list_trash(owner_id=caller.id, limit=limit, after=_after(signer, cursor))
    next_cursor = signer.encode(next_after) if next_after is not None else None
    body = {"items": [trashed_note(note) for note in notes], "next_cursor": next_cursor}
    return Response(orjson.dumps(body), media_type=_JSON)


@router.post("/{note_id:id}/restore", responses=_responses(200, _NOTE, 404, 422))
async def restore_note(note_id: TrashedId, caller: CurrentCaller) -> Response:
    """Brings the note back as it was, as a new version."""
    return _note_response(await trash.restore_note(owner_id=caller.id, note_id=note_id))


@router.delete("/{note_id:id}", status_code=204, responses=_responses(204, None, 404, 422))
async def delete_for_good(note_id: TrashedId, caller: CurrentCaller) -> Response:
    """Deletes the trashed note and its history for good."""
    await trash.delete_for_good(owner_id=caller.id, note_id=note_id)
    return Response(status_code=204)


@router.delete("", status_code=204, responses=_responses(204, None))
async def empty_trash(caller: CurrentCaller) -> Response:
    """Deletes every note in the caller's trash for good."""
    await trash.empty_trash(owner_id=caller.id)
    return Response(status_code=204)
