"""What can be done with notes, free of HTTP: keyword-only async functions over the ORM."""

import operator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.notes.models import Note
from notes_app.notes.pagination import Cursor, Sort
from notes_app.notes.schemas import NoteCreate, NotePatch, NoteReplace


class NoteNotFound(ProblemError):
    status = 404

    def __init__(self, note_id: int) -> None:
        super().__init__(f"note {note_id} does not exist")


async def create_note(*, data: NoteCreate) -> Note:
    now = datetime.now(UTC)
    return await Note.create(**data.model_dump(), created_at=now, updated_at=now)


async def get_note(*, note_id: int) -> Note:
    note = await Note.get_or_none(id=note_id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


async def replace_note(*, note_id: int, data: NoteReplace) -> Note:
    return await _write_changes(note_id=note_id, values=data.model_dump())


async def patch_note(*, note_id: int, changes: NotePatch) -> Note:
    return await _write_changes(note_id=note_id, values=changes.model_dump(exclude_unset=True))


async def delete_note(*, note_id: int) -> None:
    if not await Note.filter(id=note_id).delete():
        raise NoteNotFound(note_id)


@dataclass(frozen=True)
class NoteFilters:
    archived: bool = False
    pinned: bool | None = None

    def as_query(self) -> Q:
        conditions: dict[str, Any] = {"archived": self.archived}
        if self.pinned is not None:
            conditions["pinned"] = self.pinned
        return Q(**conditions)


async def list_notes(
    *, filters: NoteFilters, sort: Sort, limit: int, after: Cursor | None
) -> tuple[list[Note], Cursor | None]:
    """One page of the notes that pass `filters`, in `sort` order, starting after `after`; and the
    cursor for the next page, if there is one."""
    query = Note.filter(filters.as_query()).order_by(*sort.order_by)
    if after is not None:
        query = query.filter(sort.after(after))
    # One row more than asked tells whether another page exists, without a COUNT.
    notes = await query.limit(limit + 1)
    if len(notes) <= limit:
        return notes, None
    notes = notes[:limit]
    last = notes[-1]
    return notes, Cursor(sort=sort.name, value=getattr(last, sort.field), id=last.id)


async def _write_changes(*, note_id: int, values: dict[str, Any]) -> Note:
    """Set `values` on the note in one conditional UPDATE that also moves version and updated_at,
    and matches only when some value differs from the stored one: a no-op writes nothing, and two
    clients changing different fields at once both keep their change (no read-modify-write).

    The note is read back in the same transaction, so the answer is the state this request wrote:
    on PostgreSQL the UPDATE's row lock holds until commit, and SQLite runs transactions one at a time.
    """
    async with in_transaction() as connection:
        if values:
            differs = reduce(operator.or_, (Q(**{f"{name}__not": value}) for name, value in values.items()))
            await (
                Note.filter(Q(id=note_id), differs)
                .using_db(connection)
                .update(**values, version=F("version") + 1, updated_at=datetime.now(UTC))
            )
        note = await Note.filter(id=note_id).using_db(connection).first()
    if note is None:
        raise NoteNotFound(note_id)
    return note
