"""The one place every write path of a note leaves its traces, in the transaction of the write.

Every path that changes a note (create, bulk create, PUT, PATCH, trash, restore from the trash,
restore from a revision, purge, import) calls `record_change` (or `record_changes` for a batch) with
the transaction's connection and the note as the write left it. What is recorded lives here, so a new
write path cannot forget a trace, and a trace can never exist without its change or the reverse.
"""

from collections.abc import Sequence
from enum import StrEnum

from tortoise import BaseDBAsyncClient

from notes_app.notes.models import Note
from notes_app.notes.revisions import write_revisions


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    TRASHED = "trashed"
    RESTORED = "restored"
    PURGED = "purged"


# The kinds that give a note a new version, whose state the history keeps. Trashing changes no
# version, and a purge takes the history with the note (its foreign key cascades).
_NEW_VERSION = frozenset({ChangeKind.CREATED, ChangeKind.UPDATED, ChangeKind.RESTORED})


async def record_change(*, connection: BaseDBAsyncClient, note: Note, kind: ChangeKind) -> None:
    """Record that `note` (its state after the write) changed by `kind`, inside the write's transaction."""
    await record_changes(connection=connection, notes=(note,), kind=kind)


async def record_changes(*, connection: BaseDBAsyncClient, notes: Sequence[Note], kind: ChangeKind) -> None:
    """`record_change` for a batch written by one statement or transaction: one statement per trace."""
    if not notes:
        return
    if kind in _NEW_VERSION:
        await write_revisions(connection=connection, notes=notes)
    # The change feed's position or tombstones, the long polls' wake-up and the webhook outbox events
    # (notes_app/sync/recorder.py). Imported here: the sync package reads the notes' models and schemas.
    from notes_app.sync.recorder import record_sync_changes

    # The feed counts per owner, and a purge's batch takes any owners' notes. Owners in ascending order,
    # so two transactions recording for the same owners lock their counters in one order (no deadlock).
    for owner_id in sorted({note.owner_id for note in notes}):
        owned = [note for note in notes if note.owner_id == owner_id]
        await record_sync_changes(connection=connection, notes=owned, kind=kind)
