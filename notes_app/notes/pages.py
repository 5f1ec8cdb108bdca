"""GET /notes: a page of the caller's notes, answered from the rows without building a model per note."""

from collections.abc import Mapping, Sequence
from typing import Any

from notes_app.notes.compiled import select_page
from notes_app.notes.listing import NoteFilters
from notes_app.notes.models import Note
from notes_app.notes.pagination import Cursor, Sort
from notes_app.notes.schemas import public_note, public_note_row
from notes_app.users.credentials import Caller, ensure_alive


async def list_notes(
    *, caller: Caller, filters: NoteFilters, sort: Sort, limit: int, after: Cursor | None
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """One page of the caller's notes that pass `filters`, in `sort` order, starting after `after`, as
    the API shows them; and the cursor for the next page, if there is one."""
    dialect, rows = await select_page(caller=caller, filters=filters, sort=sort, limit=limit, after=after)
    if not rows:
        await ensure_alive(caller)  # an empty page proves nothing about the credential
    more = len(rows) > limit
    rows = rows[:limit]
    if dialect == "postgres":
        return _from_postgres_rows(rows, sort=sort, more=more)
    # SQLite hands back text for timestamps and integers for booleans: the model's own conversion.
    notes = [Note._init_from_db(**row) for row in rows]
    last = notes[-1] if more else None
    return [public_note(note) for note in notes], Cursor(value=getattr(last, sort.field), id=last.id) if last else None


def _from_postgres_rows(
    rows: Sequence[Mapping[str, Any]], *, sort: Sort, more: bool
) -> tuple[list[dict[str, Any]], Cursor | None]:
    # asyncpg already hands back Python values of the model's types: building a Note per row (half of
    # a 50-note page's CPU with the JSON) would only copy them.
    last = rows[-1] if more else None
    return [public_note_row(row) for row in rows], Cursor(value=last[sort.field], id=last["id"]) if last else None
