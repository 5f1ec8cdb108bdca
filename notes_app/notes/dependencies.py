from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError

from notes_app.notes.listing import NoteFilters, cursor_signer
from notes_app.notes.models import MAX_NOTE_ID, Note
from notes_app.notes.pagination import DEFAULT_SORT, SORTS, Cursor, CursorSigner, InvalidCursor, Sort, SortName
from notes_app.notes.schemas import SearchText, Tags
from notes_app.notes.service import NoteNotFound, find_note
from notes_app.users.dependencies import TokenCaller


async def _owned_note(note_id: Annotated[int, Path(description="The note's id.")], caller: TokenCaller) -> Note:
    # An id beyond the column's range cannot name a note: the same 404 as any missing note,
    # rather than a query the database would reject.
    if not 1 <= note_id <= MAX_NOTE_ID:
        raise NoteNotFound(note_id)
    # find_note's one statement proves the caller's credential alive too (TokenCaller's bargain).
    return await find_note(caller=caller, note_id=note_id)


# The caller's note named in the path, or 404: every per-note route gets ownership checked here.
OwnedNote = Annotated[Note, Depends(_owned_note)]


@dataclass(frozen=True)
class PageRequest:
    sort: Sort
    limit: int
    after: Cursor | None
    filters: NoteFilters
    # Signs the next page's cursor for this list: this user, sort and filters.
    cursors: CursorSigner


async def _page_request(
    request: Request,
    caller: TokenCaller,
    limit: Annotated[int, Query(ge=1, le=100, description="Notes per page.")] = 20,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The previous page's `next_cursor`, with the same `sort` and filters; omit for the first page.",
        ),
    ] = None,
    q: Annotated[
        SearchText | None, Query(description="Only notes whose title or body holds every word (see the README).")
    ] = None,
    # A list default is safe here: pydantic hands each request a copy.
    tag: Annotated[Tags, Query(description="Only notes that carry every tag given (repeat the parameter).")] = [],  # noqa: B006
    pinned: Annotated[bool | None, Query(description="Only pinned (true) or unpinned (false) notes.")] = None,
    archived: Annotated[bool, Query(description="Archived notes are listed only when this is true.")] = False,
    sort: Annotated[SortName, Query(description="The order; ties are broken by id in the same direction.")] = (
        DEFAULT_SORT
    ),
) -> PageRequest:
    # An empty or all-blank q (a search box left empty) searches for nothing: it lists every note.
    filters = NoteFilters(archived=archived, pinned=pinned, tags=tuple(tag), text=q or None)
    signing_key: str = request.app.state.token_issuer.key
    cursors = cursor_signer(signing_key=signing_key, owner_id=caller.id, sort=sort, filters=filters)
    after = None
    if cursor is not None:
        try:
            after = cursors.decode(cursor)
        except InvalidCursor as exc:
            raise RequestValidationError(
                [{"loc": ("query", "cursor"), "msg": str(exc), "type": "cursor_invalid"}]
            ) from None
    return PageRequest(sort=SORTS[sort], limit=limit, after=after, filters=filters, cursors=cursors)


Page = Annotated[PageRequest, Depends(_page_request)]
