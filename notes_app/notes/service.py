"""What can be done with notes, free of HTTP: keyword-only async functions over the ORM."""

import operator
from datetime import UTC, datetime
from functools import reduce
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.notes.models import Note
from notes_app.notes.schemas import NoteCreate, NotePatch, NoteReplace
from notes_app.users.models import User


class NoteNotFound(ProblemError):
    status = 404

    def __init__(self, note_id: int) -> None:
        super().__init__(f"note {note_id} does not exist")


async def create_note(*, owner: User, data: NoteCreate) -> Note:
    now = datetime.now(UTC)
    return await Note.create(**data.model_dump(), owner=owner, created_at=now, updated_at=now)


async def find_note(*, owner: User, note_id: int) -> Note:
    """The owner's note; another user's note is as missing as one that never existed."""
    note = await Note.get_or_none(id=note_id, owner_id=owner.id)
    if note is None:
        raise NoteNotFound(note_id)
    return note


async def replace_note(*, note: Note, data: NoteReplace) -> Note:
    return await _write_changes(note=note, values=data.model_dump())


async def patch_note(*, note: Note, changes: NotePatch) -> Note:
    return await _write_changes(note=note, values=changes.model_dump(exclude_unset=True))


async def delete_note(*, note: Note) -> None:
    if not await Note.filter(id=note.id, owner_id=note.owner_id).delete():
        raise NoteNotFound(note.id)  # deleted by a concurrent request since it was found


async def _write_changes(*, note: Note, values: dict[str, Any]) -> Note:
    """Set `values` on the note in one conditional UPDATE that also moves version and updated_at,
    and matches only when some value differs from the stored one: a no-op writes nothing, and two
    clients changing different fields at once both keep their change (no read-modify-write).

    The note is read back in the same transaction, so the answer is the state this request wrote:
    on PostgreSQL the UPDATE's row lock holds until commit, and SQLite runs transactions one at a time.
    """
    owned = Q(id=note.id, owner_id=note.owner_id)
    async with in_transaction() as connection:
        if values:
            differs = reduce(operator.or_, (Q(**{f"{name}__not": value}) for name, value in values.items()))
            await (
                Note.filter(owned, differs)
                .using_db(connection)
                .update(**values, version=F("version") + 1, updated_at=datetime.now(UTC))
            )
        written = await Note.filter(owned).using_db(connection).first()
    if written is None:
        raise NoteNotFound(note.id)  # deleted by a concurrent request since it was found
    return written
