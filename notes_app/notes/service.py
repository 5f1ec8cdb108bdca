"""What can be done with notes, free of HTTP: keyword-only async functions over the ORM."""

import operator
from collections.abc import AsyncIterator, Sequence, Set
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import reduce
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.notes import postgres_writes
from notes_app.notes.answers import NoteAnswer, answer_from_model, answer_from_row
from notes_app.notes.changes import ChangeKind, record_change, record_changes
from notes_app.notes.compiled import select_owned_note, select_owned_note_row
from notes_app.notes.etags import note_etag
from notes_app.notes.models import MAX_NOTE_ID, Note
from notes_app.notes.returning import returning_notes
from notes_app.notes.revisions import find_revision, revision_values
from notes_app.notes.schemas import NoteCreate, NotePatch, NoteReplace
from notes_app.users.credentials import Caller, ensure_alive, revoked

# The versions an If-Match accepts; None: no condition.
Versions = Set[int] | None


class NoteNotFound(ProblemError):
    status = 404

    def __init__(self, note_id: int) -> None:
        super().__init__(f"note {note_id} does not exist")


class VersionConflict(ProblemError):
    """412: If-Match named a version the note no longer (or never) had. Carries the current ETag."""

    status = 412

    def __init__(self, note_id: int, version: int) -> None:
        super().__init__(
            f"note {note_id} is at version {version}: fetch it again and retry",
            headers={"ETag": note_etag(note_id, version)},
        )


@asynccontextmanager
async def atomic(connection: BaseDBAsyncClient | None) -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction: the caller's, when it passes the connection of one it has opened (an
    Idempotency-Key's record commits with the notes), else a new one."""
    if connection is not None:
        yield connection
        return
    async with in_transaction() as new_connection:
        yield new_connection


async def _insert(data: NoteCreate, *, owner_id: int, now: datetime, connection: BaseDBAsyncClient) -> Note:
    # A new note's created_at and updated_at are the same instant.
    return await Note.create(
        **data.model_dump(), owner_id=owner_id, created_at=now, updated_at=now, using_db=connection
    )


def _on_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


async def create_note(*, caller: Caller, data: NoteCreate, connection: BaseDBAsyncClient | None = None) -> NoteAnswer:
    """The note and its traces (first revision, change feed, outbox), atomically: in `connection`'s
    transaction when given. Only while the caller's credential is alive (401 otherwise)."""
    now = datetime.now(UTC)
    try:
        if _on_postgres(writer := connection or Note._meta.db):
            # One statement, which proves the credential alive too (notes_app/notes/postgres_writes.py).
            row = await postgres_writes.create_note(writer, caller=caller, values=data.model_dump(), now=now)
            if row is None:
                raise revoked()
            return answer_from_row(row)
        await ensure_alive(caller)
        async with atomic(connection) as writer:
            note = await _insert(data, owner_id=caller.id, now=now, connection=writer)
            await record_change(connection=writer, note=note, kind=ChangeKind.CREATED)
            return answer_from_model(note)
    except IntegrityError:
        raise revoked() from None  # the owner's foreign key: the account no longer exists


async def create_notes(
    *, owner_id: int, batch: Sequence[NoteCreate], connection: BaseDBAsyncClient | None = None
) -> list[Note]:
    """All of the batch or none of it: one transaction, so a failure half-way (even a dropped
    connection) rolls back every note already inserted. Returned in input order."""
    now = datetime.now(UTC)
    try:
        async with atomic(connection) as writer:
            notes = [await _insert(data, owner_id=owner_id, now=now, connection=writer) for data in batch]
            await record_changes(connection=writer, notes=notes, kind=ChangeKind.CREATED)
            return notes
    except IntegrityError:
        raise revoked() from None


def check_note_id(note_id: int) -> None:
    """An id beyond the column's range cannot name a note: the same 404 as any missing note, rather
    than a query the database would reject."""
    if not 1 <= note_id <= MAX_NOTE_ID:
        raise NoteNotFound(note_id)


async def _not_found(caller: Caller, note_id: int) -> NoteNotFound:
    """Why a statement that proves the caller alive found no note: 401 when the credential is no longer
    alive (raised here), else 404 (returned)."""
    await ensure_alive(caller)
    return NoteNotFound(note_id)


async def find_note(*, caller: Caller, note_id: int) -> Note:
    """The caller's note; another user's note is as missing as one that never existed. The statement
    that finds it also proves that the caller's session or token is alive (so the account exists)."""
    check_note_id(note_id)
    note = await select_owned_note(note_id=note_id, caller=caller)
    if note is None:
        raise await _not_found(caller, note_id)
    return note


async def find_note_answer(*, caller: Caller, note_id: int) -> NoteAnswer:
    """`find_note` for a read, which needs no model: on PostgreSQL the answer is written straight from
    the row (SQLite hands back text for timestamps and integers for booleans: the model converts them)."""
    check_note_id(note_id)
    dialect, row = await select_owned_note_row(note_id=note_id, caller=caller)
    if row is None:
        raise await _not_found(caller, note_id)
    return answer_from_row(row) if dialect == "postgres" else answer_from_model(Note._init_from_db(**row))


async def replace_note(
    *, caller: Caller, note_id: int, data: NoteReplace, expected_versions: Versions = None
) -> NoteAnswer:
    """PUT: the caller's note `note_id` set to `data` (see _write_owned)."""
    return await _write_owned(
        caller=caller, note_id=note_id, values=data.model_dump(), expected_versions=expected_versions
    )


async def patch_note(
    *, caller: Caller, note_id: int, changes: NotePatch, expected_versions: Versions = None
) -> NoteAnswer:
    """PATCH: only the fields sent change (see _write_owned)."""
    values = changes.model_dump(exclude_unset=True)
    return await _write_owned(caller=caller, note_id=note_id, values=values, expected_versions=expected_versions)


async def trash_note(*, note: Note, expected_versions: Versions = None) -> None:
    """Move the note to the trash, if it is at one of `expected_versions` (any version when None); the
    check and the move are one statement, so no other write can slip in between. Neither the version
    nor updated_at moves: the note is as it was, only trashed."""
    async with in_transaction() as connection:
        trashed = await returning_notes(
            Note.filter(_guard(note, expected_versions)).using_db(connection).update(deleted_at=datetime.now(UTC))
        )
        if trashed:
            await record_change(connection=connection, note=trashed[0], kind=ChangeKind.TRASHED)
            return
        current = await Note.filter(_owned(note)).using_db(connection).first()
    if current is None:
        raise NoteNotFound(note.id)  # trashed or deleted by a concurrent request since it was found
    raise VersionConflict(current.id, current.version)


async def restore_revision(*, note: Note, version: int, expected_versions: Versions = None) -> Note:
    """Set the note's content and flags to those of its revision `version`, as a new version (a no-op
    when they are equal already)."""
    revision = await find_revision(note=note, version=version)
    return await _write_changes(note=note, values=revision_values(revision), expected_versions=expected_versions)


def _owned(note: Note) -> Q:
    """The note, while it is live: a trashed note takes no writes but a restore."""
    return Q(id=note.id, owner_id=note.owner_id, deleted_at__isnull=True)


def _guard(note: Note, expected_versions: Versions) -> Q:
    if expected_versions is None:
        return _owned(note)
    return _owned(note) & Q(version__in=sorted(expected_versions))


async def _write_owned(
    *, caller: Caller, note_id: int, values: dict[str, Any], expected_versions: Versions
) -> NoteAnswer:
    """Set `values` on the caller's note `note_id` (404 when it is not theirs, missing or trashed; 401
    when the caller's credential is no longer alive). On PostgreSQL the lookup, the liveness proof, the
    If-Match check, the write and its traces are one statement; only a statement that found no note
    is followed by a second, to tell 401 from 404."""
    check_note_id(note_id)
    if _on_postgres(Note._meta.db):
        row = await _write_on_postgres(
            note_id=note_id, owner_id=caller.id, caller=caller, values=values, expected_versions=expected_versions
        )
        return answer_from_row(row)
    note = await find_note(caller=caller, note_id=note_id)
    return answer_from_model(await _write_changes(note=note, values=values, expected_versions=expected_versions))


async def _write_on_postgres(
    *, note_id: int, owner_id: int, caller: Caller | None, values: dict[str, Any], expected_versions: Versions
) -> postgres_writes.NoteRow:
    """One statement (notes_app/notes/postgres_writes.py): it locks the note, checks If-Match and
    whether any value differs on the row as it is once locked, and writes the change with its traces,
    or hands back the note as it is. With `caller`, only while the caller's credential is alive. The
    note's row as the answer shows it."""
    outcome = await postgres_writes.update_note(
        Note._meta.db,
        note_id=note_id,
        owner_id=owner_id,
        caller=caller,
        values=values,
        versions=sorted(expected_versions) if expected_versions is not None else None,
        now=datetime.now(UTC),
    )
    if outcome is None:
        # Without `caller`, the route proved it alive already (OwnedNote): only 404 is left.
        raise await _not_found(caller, note_id) if caller is not None else NoteNotFound(note_id)
    if not outcome.written:
        _refuse_stale(note_id, expected_versions, outcome.row["version"])
    return outcome.row


async def _write_changes(*, note: Note, values: dict[str, Any], expected_versions: Versions) -> Note:
    """Set `values` on the note (found and proven the caller's already) in one conditional UPDATE that
    also moves version and updated_at, and record the change (its revision) in the same transaction. On
    PostgreSQL all of it is one statement (_write_on_postgres), with the same guarantees.

    The UPDATE matches only when the note is at one of `expected_versions` (If-Match) and some value
    differs from the stored one, so the version check and the write are one statement (two clients
    with the same If-Match cannot both win), a no-op writes nothing, and two clients changing
    different fields at once both keep their change (no read-modify-write).

    The UPDATE returns the row it wrote (RETURNING), so the answer and the revision are exactly the
    state this request made, with no read in between: on PostgreSQL the row lock holds until commit,
    and each racing writer gets its own version number, each recorded once. Only when nothing was
    written is the note read, to tell a no-op from a conflict or a note that is gone.
    """
    if _on_postgres(Note._meta.db):
        row = await _write_on_postgres(
            note_id=note.id, owner_id=note.owner_id, caller=None, values=values, expected_versions=expected_versions
        )
        return Note._init_from_db(**row)
    async with in_transaction() as connection:
        if values:
            differs = reduce(operator.or_, (Q(**{f"{name}__not": value}) for name, value in values.items()))
            written = await returning_notes(
                Note.filter(_guard(note, expected_versions), differs)
                .using_db(connection)
                .update(**values, version=F("version") + 1, updated_at=datetime.now(UTC))
            )
            if written:
                await record_change(connection=connection, note=written[0], kind=ChangeKind.UPDATED)
                return written[0]
        current = await Note.filter(_owned(note)).using_db(connection).first()
    if current is None:
        raise NoteNotFound(note.id)  # trashed or deleted by a concurrent request since it was found
    _refuse_stale(note.id, expected_versions, current.version)
    return current


def _refuse_stale(note_id: int, expected_versions: Versions, version: int) -> None:
    """For a write that wrote nothing to a note that is there, at `version` now: 412 when If-Match named
    another version; otherwise it was a no-op, answered with the unchanged note."""
    if expected_versions is not None and version not in expected_versions:
        raise VersionConflict(note_id, version)
