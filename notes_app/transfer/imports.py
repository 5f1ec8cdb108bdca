"""POST /import, free of HTTP: read everything, validate everything, then write it all in one transaction."""

import hashlib
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import anyio.to_thread
from pydantic import TypeAdapter, ValidationError
from tortoise import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.notes.bulk_insert import BATCH_SIZE, insert_notes
from notes_app.notes.changes import ChangeKind, record_changes
from notes_app.notes.models import Note
from notes_app.notes.schemas import NoteCreate, Tag
from notes_app.transfer.archive import MAX_NOTE_FILE_BYTES, UploadedFile, read_archive
from notes_app.transfer.frontmatter import InvalidNoteFile, read_note_file
from notes_app.users.service import account_gone

# The problem lists this many invalid files at most: enough to fix a batch of them, bounded for a
# 10,000-file archive where every file is wrong.
MAX_REPORTED_ERRORS = 100
# A tag as a note stores it: trimmed, lower-cased.
_STORED_TAG: TypeAdapter[str] = TypeAdapter(Tag)


class UploadKind(Enum):
    ZIP = "zip"
    MARKDOWN = "markdown"


class InvalidImport(ProblemError):
    status = 422


@dataclass(frozen=True)
class ImportedNote:
    file: str
    note: Note  # not saved yet: built in the worker thread, so the event loop only inserts
    renamed_tags: list[tuple[str, str]]  # (as written, as stored)


@dataclass(frozen=True)
class ImportPlan:
    notes: list[ImportedNote]
    skipped: list[tuple[str, str]]
    renamed_tags: list[tuple[str, str]]  # each distinct (as written, as stored), sorted
    # SHA-256 of what was uploaded (kind, file name, bytes): the same upload sent again with the same
    # Idempotency-Key is the same request.
    fingerprint: str


@dataclass(frozen=True)
class ImportResult:
    items: list[tuple[str, int]]  # (file, id) in the order of the upload
    skipped: list[tuple[str, str]]  # (file, reason)
    renamed_tags: list[tuple[str, str]]  # (as written, as stored)


def _problem_errors(file: str, errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"loc": ["body", file, *error["loc"]], "msg": error["msg"], "type": error["type"]} for error in errors]


def _read_note(upload: UploadedFile, *, owner_id: int, now: datetime) -> ImportedNote:
    try:
        text = upload.data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidNoteFile([{"loc": [], "msg": "the file is not UTF-8 text", "type": "unicode_invalid"}]) from None
    note_file = read_note_file(upload.name, text)
    try:
        data = NoteCreate.model_validate(note_file.fields)
    except ValidationError as exc:
        raise InvalidNoteFile([dict(error) for error in exc.errors()]) from None
    created = note_file.created or now
    note = Note(owner_id=owner_id, **data.model_dump(), created_at=created, updated_at=note_file.updated or created)
    renamed = [(written, _STORED_TAG.validate_python(joined)) for written, joined in note_file.renamed_tags]
    return ImportedNote(upload.name, note, renamed)


def plan_import(*, owner_id: int, body: bytes, kind: UploadKind, file_name: str, now: datetime) -> ImportPlan:
    """Every note the upload holds, validated by the rules of note input; nothing is written. Raises
    InvalidImport (422) naming every invalid file, or the archive's own errors (413, 422).
    CPU-bound (inflating, decoding, YAML, validation): call it in a worker thread."""
    if kind is UploadKind.ZIP:
        contents = read_archive(body)
        uploads, skipped, oversized = contents.files, contents.skipped, contents.oversized
    else:
        uploads, skipped, oversized = [UploadedFile(file_name, body)], [], []
    errors: list[dict[str, Any]] = []
    for name in oversized:
        errors += _problem_errors(
            name, [{"loc": [], "msg": f"over {MAX_NOTE_FILE_BYTES} bytes: too long for a note", "type": "too_long"}]
        )
    notes: list[ImportedNote] = []
    for upload in uploads:
        try:
            notes.append(_read_note(upload, owner_id=owner_id, now=now))
        except InvalidNoteFile as exc:
            errors += _problem_errors(upload.name, exc.errors)
    if errors:
        first = errors[0]
        field = ".".join(str(part) for part in first["loc"][2:])
        raise InvalidImport(
            f"{first['loc'][1]}: {field + ': ' if field else ''}{first['msg']} (nothing was imported)",
            errors=errors[:MAX_REPORTED_ERRORS],
        )
    digest = hashlib.sha256(f"{kind.value}\0{file_name}\0".encode())
    digest.update(body)
    renamed_tags = sorted({pair for imported in notes for pair in imported.renamed_tags})
    return ImportPlan(notes=notes, skipped=skipped, renamed_tags=renamed_tags, fingerprint=digest.hexdigest())


async def read_upload(*, owner_id: int, body: bytes, kind: UploadKind, file_name: str) -> ImportPlan:
    """Read and validate the upload in a worker thread, so the event loop keeps serving other requests
    while an archive is inflated and parsed. Nothing is written."""
    now = datetime.now(UTC)
    return await anyio.to_thread.run_sync(
        lambda: plan_import(owner_id=owner_id, body=body, kind=kind, file_name=file_name, now=now)
    )


async def write_notes(*, plan: ImportPlan, connection: BaseDBAsyncClient | None = None) -> ImportResult:
    """Write every note of the plan, all or none: in `connection`'s transaction when given (the one an
    Idempotency-Key is recorded in), else in a transaction of its own."""
    notes = [imported.note for imported in plan.notes]
    try:
        async with in_transaction() if connection is None else nullcontext(connection) as transaction:
            # Batch by batch, so each trace is one statement per batch too (and within the limits on
            # parameters per statement).
            for start in range(0, len(notes), BATCH_SIZE):
                batch = notes[start : start + BATCH_SIZE]
                await insert_notes(connection=transaction, notes=batch)
                await record_changes(connection=transaction, notes=batch, kind=ChangeKind.CREATED)
    except IntegrityError:
        raise account_gone() from None  # the owner's foreign key: the account no longer exists
    return ImportResult(
        items=[(imported.file, imported.note.id) for imported in plan.notes],
        skipped=plan.skipped,
        renamed_tags=plan.renamed_tags,
    )
