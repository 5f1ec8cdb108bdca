"""The note a write answers with, built from what the write's statement returned.

On PostgreSQL POST, PUT and PATCH get the note's row back from their one statement
(notes_app/notes/postgres_writes.py). Hydrating a model from it only to write the answer cost ~20 µs a
request, most of it Tortoise converting each timestamp through its time-zone settings; the answer needs
only the public fields, which `public_note_row` takes from the row as it is (tests/notes/test_pages.py
proves its JSON byte-equal to the model's). SQLite's ORM path hands back a model, answered the same way.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notes_app.notes.etags import etag, note_etag
from notes_app.notes.models import Note
from notes_app.notes.schemas import public_note, public_note_row


@dataclass(frozen=True, slots=True)
class WrittenNote:
    id: int
    etag: str
    # The NotePublic shape, for orjson.dumps with ROW_JSON_OPTIONS.
    public: dict[str, Any]


def written_row(row: Mapping[str, Any]) -> WrittenNote:
    """From a `note` row as asyncpg returns it (jsonb as text, timestamps as aware datetimes)."""
    return WrittenNote(id=row["id"], etag=note_etag(row["id"], row["version"]), public=public_note_row(row))


def written_model(note: Note) -> WrittenNote:
    return WrittenNote(id=note.id, etag=etag(note), public=public_note(note))
