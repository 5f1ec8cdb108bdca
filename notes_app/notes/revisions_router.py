"""HTTP routes for a note's history: its revisions, diffs between them, and restoring one."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from notes_app.notes import revisions, service
from notes_app.notes.dependencies import OwnedNote
from notes_app.notes.etags import if_match_versions
from notes_app.notes.models import MAX_VERSION
from notes_app.notes.pagination import CursorSigner, InvalidCursor, cursor_key
from notes_app.notes.revisions import RevisionNotFound
from notes_app.notes.router import _JSON, _NOTE, IfMatch, _note_response, _responses
from notes_app.notes.schemas import Revision, RevisionPage, public_revision
from notes_app.users.dependencies import CurrentCaller

router = APIRouter(prefix="/notes/{note_id:id}/revisions", tags=["revisions"])

VersionPath = Annotated[int, Path(description="A version of the note.")]


async def _kept_version(note: OwnedNote, version: VersionPath) -> int:
    # A version beyond the column's range names no revision: 404 like any version not kept.
    if not revisions.valid_version(version):
        raise RevisionNotFound(note.id, version)
    return version


KeptVersion = Annotated[int, Depends(_kept_version)]


def _signer(request: Request, owner_id: int, note_id: int) -> CursorSigner:
    # A cursor of one note's history means nothing for another note or user: signed for this list.
    key = cursor_key(request.app.state.token_issuer.key)
    return CursorSigner(key=key, listing=orjson.dumps(["revisions", owner_id, note_id]))


def _before(signer: CursorSigner, cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        position = signer.decode_position(cursor)
        if not (isinstance(position, list) and len(position) == 1 and type(position[0]) is int):
            raise InvalidCursor("malformed")
        version: int = position[0]
        if not 1 <= version <= MAX_VERSION:
            raise InvalidCursor("malformed")
    except InvalidCursor:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": "the cursor is not valid for this list", "type": "cursor_invalid"}]
        ) from None
    return version


@router.get("", responses=_responses(200, {"model": RevisionPage}, 404, 422))
async def list_revisions(
    request: Request,
    note: OwnedNote,
    caller: CurrentCaller,
    limit: Annotated[int, Query(ge=1, le=100, description="Revisions per page.")] = 20,
    cursor: Annotated[str | None, Query(max_length=200, description="The previous page's `next_cursor`.")] = None,
) -> Response:
    """The note's kept revisions, newest first: the first one is the current version."""
    signer = _signer(request, caller.id, note.id)
    page, next_before = await revisions.list_revisions(note=note, limit=limit, before=_before(signer, cursor))
    body = {
        "items": [public_revision(revision) for revision in page],
        "next_cursor": signer.encode_position([next_before]) if next_before is not None else None,
    }
    return Response(orjson.dumps(body), media_type=_JSON)


@router.get("/{version:id}", responses=_responses(200, {"model": Revision}, 404, 422))
async def get_revision(note: OwnedNote, version: KeptVersion) -> Response:
    revision = await revisions.find_revision(note=note, version=version)
    return Response(orjson.dumps(public_revision(revision)), media_type=_JSON)


@router.get(
    "/{version:id}/diff",
    response_class=Response,
    responses={
        **_responses(200, None, 404, 422),
        200: {
            "description": "A unified diff of the title, then the body (empty when both are equal).",
            "content": {"text/plain; charset=utf-8": {"schema": {"type": "string"}}},
        },
    },
)
async def diff_revisions(
    note: OwnedNote,
    version: KeptVersion,
    to: Annotated[int | None, Query(description="The version to compare with; the current one by default.")] = None,
) -> Response:
    other = note.version if to is None else to
    if not revisions.valid_version(other):
        raise RevisionNotFound(note.id, other)
    found = await revisions.find_revisions(note=note, versions=(version, other))
    text = revisions.revision_diff(note_id=note.id, old=found[version], new=found[other])
    return Response(text, media_type="text/plain; charset=utf-8")


@router.post("/{version:id}/restore", responses=_responses(200, _NOTE, 404, 412, 422))
async def restore_revision(note: OwnedNote, version: KeptVersion, if_match: IfMatch = None) -> Response:
    """Sets title, body, tags, pinned and archived to the revision's, as a new version."""
    expected = if_match_versions(if_match, note.id)
    return _note_response(await service.restore_revision(note=note, version=version, expected_versions=expected))
