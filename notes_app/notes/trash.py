"""The trash: notes deleted through the API, kept for a while so they can be brought back.

A trashed note keeps its row, with `deleted_at` set; every v1 path asks for `deleted_at IS NULL`.
Deleting for good (one note, the whole trash, or the periodic purge of expired ones) deletes rows in
small batches, each its own transaction, claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL: two
workers purging at once take disjoint rows and neither waits for the other, and a note being restored
at that moment (its row locked) is skipped rather than deleted under the restore. On SQLite every
transaction takes the database's write lock when it begins (notes_app/sqlite_client.py), so the
batches of every connection and process take turns, each waiting for the one before.
"""

from datetime import UTC, datetime, timedelta

from tortoise.expressions import F, Q, Subquery
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.notes.changes import ChangeKind, record_change, record_changes
from notes_app.notes.models import MAX_NOTE_ID, Note
from notes_app.notes.pagination import Cursor
from notes_app.notes.returning import returning_notes
from notes_app.users.service import ensure_account_exists


class NotInTrash(ProblemError):
    status = 404

    def __init__(self, note_id: int) -> None:
        super().__init__(f"note {note_id} is not in the trash")


def _in_trash(owner_id: int, note_id: int) -> Q:
    return Q(id=note_id, owner_id=owner_id, deleted_at__isnull=False)


async def _not_in_trash(owner_id: int, note_id: int) -> NotInTrash:
    await ensure_account_exists(owner_id)  # a deleted account's token is 401, not 404
    return NotInTrash(note_id)


async def list_trash(*, owner_id: int, limit: int, after: Cursor | None) -> tuple[list[Note], Cursor | None]:
    """A page of the owner's trash, most recently deleted first (ties by id), starting after `after`
    (a cursor on deleted_at)."""
    query = Note.filter(owner_id=owner_id, deleted_at__isnull=False)
    if after is not None:
        # As in notes_app/notes/pagination.py: a bare range first, so the scan starts at the cursor.
        query = query.filter(Q(deleted_at__lte=after.value) & (Q(deleted_at__lt=after.value) | Q(id__lt=after.id)))
    notes = await query.order_by("-deleted_at", "-id").limit(limit + 1)
    if not notes:
        await ensure_account_exists(owner_id)
    if len(notes) <= limit:
        return notes, None
    notes = notes[:limit]
    last = notes[-1]
    assert last.deleted_at is not None
    return notes, Cursor(value=last.deleted_at, id=last.id)


async def restore_note(*, owner_id: int, note_id: int) -> Note:
    """Bring the note back from the trash as a new version (a restore is a change): same id, content,
    tags, flags and created_at."""
    if not 1 <= note_id <= MAX_NOTE_ID:
        raise NotInTrash(note_id)
    async with in_transaction() as connection:
        restored = await returning_notes(
            Note.filter(_in_trash(owner_id, note_id))
            .using_db(connection)
            .update(deleted_at=None, version=F("version") + 1, updated_at=datetime.now(UTC))
        )
        if restored:
            await record_change(connection=connection, note=restored[0], kind=ChangeKind.RESTORED)
            return restored[0]
    raise await _not_in_trash(owner_id, note_id)


async def delete_for_good(*, owner_id: int, note_id: int) -> None:
    """Delete a trashed note and its history. Its id is never used again (the sequence moves on)."""
    if not 1 <= note_id <= MAX_NOTE_ID:
        raise NotInTrash(note_id)
    async with in_transaction() as connection:
        deleted = await returning_notes(Note.filter(_in_trash(owner_id, note_id)).using_db(connection).delete())
        if deleted:
            await record_change(connection=connection, note=deleted[0], kind=ChangeKind.PURGED)
            return
    raise await _not_in_trash(owner_id, note_id)


async def _purge_batch(condition: Q, *, batch_size: int, connection_name: str | None) -> list[Note]:
    """Delete up to `batch_size` trashed notes that meet `condition`, in one transaction."""
    async with in_transaction(connection_name or "default") as connection:
        # FOR UPDATE SKIP LOCKED (PostgreSQL; Tortoise leaves it out on SQLite): rows another worker
        # or a restore holds are skipped, not waited for, and the outer DELETE takes only rows claimed
        # here. The claim orders by deleted_at so the oldest go first, through the trash index.
        claimed = (
            Note.filter(condition, deleted_at__isnull=False)
            .order_by("deleted_at")
            .limit(batch_size)
            .select_for_update(skip_locked=True)
            .values("id")
        )
        deleted = await returning_notes(Note.filter(id__in=Subquery(claimed)).using_db(connection).delete())
        await record_changes(connection=connection, notes=deleted, kind=ChangeKind.PURGED)
    return deleted


async def _purge(condition: Q, *, batch_size: int, connection_name: str | None = None) -> list[int]:
    purged: list[int] = []
    while True:
        batch = await _purge_batch(condition, batch_size=batch_size, connection_name=connection_name)
        purged += (note.id for note in batch)
        if len(batch) < batch_size:
            return purged


async def empty_trash(*, owner_id: int, batch_size: int = 500) -> None:
    """Delete every note in the owner's trash for good, a batch at a time."""
    await _purge(Q(owner_id=owner_id), batch_size=batch_size)


async def purge_expired_trash(
    *, retention: timedelta, batch_size: int, connection_name: str | None = None
) -> list[int]:
    """Delete for good every note trashed longer than `retention` ago, in batches; the ids purged by
    this call (another worker purging at the same time purges the others). `connection_name`: a
    Tortoise connection other than the default (tests run two on one database)."""
    cutoff = datetime.now(UTC) - retention
    return await _purge(Q(deleted_at__lt=cutoff), batch_size=batch_size, connection_name=connection_name)
