"""GET /notes/{id}: the caller's note answered from its row, without building a model.

A read changes nothing, so the Note that PUT, PATCH and DELETE need (OwnedNote) would only copy the
row's values: on PostgreSQL the answer is written straight from the row, as GET /notes writes its pages
(notes/pages.py); tests/notes/test_note_view.py proves the bytes equal the model's for every field.
"""

from dataclasses import dataclass
from typing import Any

import orjson

from notes_app.notes.compiled import select_owned_note_row
from notes_app.notes.etags import etag, note_etag
from notes_app.notes.models import MAX_NOTE_ID, Note
from notes_app.notes.schemas import ROW_JSON_OPTIONS, public_note, public_note_row
from notes_app.notes.service import NoteNotFound
from notes_app.users.credentials import Caller, ensure_alive


@dataclass(frozen=True, slots=True)
class NoteView:
    """A note as GET /notes/{id} answers it."""

    etag: str
    public: dict[str, Any]  # the NotePublic shape, for orjson with ROW_JSON_OPTIONS

    def json(self) -> bytes:
        return orjson.dumps(self.public, option=ROW_JSON_OPTIONS)


async def find_note_view(*, caller: Caller, note_id: int) -> NoteView:
    """The caller's live note; another user's note is as missing as one that never existed (404). The
    statement that finds it also proves the caller's session or token alive (TokenCaller's bargain)."""
    # An id beyond the column's range cannot name a note: the same 404 as any missing note, rather than
    # a query the database would reject.
    if not 1 <= note_id <= MAX_NOTE_ID:
        raise NoteNotFound(note_id)
    dialect, row = await select_owned_note_row(note_id=note_id, caller=caller)
    if row is None:
        await ensure_alive(caller)  # a revoked credential is 401, not 404
        raise NoteNotFound(note_id)
    if dialect == "postgres":
        return NoteView(etag=note_etag(row["id"], row["version"]), public=public_note_row(row))
    # SQLite hands back text for timestamps and integers for booleans: the model's own conversion.
    note = Note._init_from_db(**row)
    return NoteView(etag=etag(note), public=public_note(note))
