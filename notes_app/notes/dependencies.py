from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.exceptions import RequestValidationError

from notes_app.notes.models import MAX_NOTE_ID, Note
from notes_app.notes.pagination import DEFAULT_SORT, Cursor, InvalidCursor, Sort, decode_cursor
from notes_app.notes.service import NoteFilters, NoteNotFound, find_note
from notes_app.users.dependencies import CurrentCaller


async def _owned_note(note_id: Annotated[int, Path(description="The note's id.")], caller: CurrentCaller) -> Note:
    # An id beyond the column's range cannot name a note: the same 404 as any missing note,
    # rather than a query the database would reject.
    if not 1 <= note_id <= MAX_NOTE_ID:
        raise NoteNotFound(note_id)
    return await find_note(owner_id=caller.id, note_id=note_id)


# The caller's note named in the path, or 404: every per-note route gets ownership checked here.
OwnedNote = Annotated[Note, Depends(_owned_note)]


@dataclass(frozen=True)
class PageRequest:
    sort: Sort
    limit: int
    after: Cursor | None
    filters: NoteFilters


async def _page_request(
    limit: Annotated[int, Query(ge=1, le=100, description="Notes per page.")] = 20,
    cursor: Annotated[
        str | None, Query(description="The previous page's `next_cursor`; omit for the first page.")
    ] = None,
    pinned: Annotated[bool | None, Query(description="Only pinned (true) or unpinned (false) notes.")] = None,
    archived: Annotated[bool, Query(description="Archived notes are listed only when this is true.")] = False,
) -> PageRequest:
    sort = DEFAULT_SORT
    after = None
    if cursor is not None:
        try:
            after = decode_cursor(cursor, sort=sort)
        except InvalidCursor as exc:
            raise RequestValidationError(
                [{"loc": ("query", "cursor"), "msg": str(exc), "type": "cursor_invalid"}]
            ) from None
    return PageRequest(sort=sort, limit=limit, after=after, filters=NoteFilters(pinned=pinned, archived=archived))


Page = Annotated[PageRequest, Depends(_page_request)]
