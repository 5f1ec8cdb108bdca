"""A note as a route answers it, built from what the route's statement returned.

On PostgreSQL, GET /notes/{id} reads the note's row and POST, PUT and PATCH get it back from their one
statement (notes_app/notes/postgres_writes.py). Hydrating a model from it only to write the answer cost
~20 µs a request, most of it Tortoise converting each timestamp through its time-zone settings; the
answer needs only the public fields, which `public_note_row` takes from the row as it is
(tests/notes/test_pages.py, test_note_view.py and test_returning.py prove the JSON byte-equal to the
model's). Where the route holds a model (SQLite's ORM path, trash, revisions) it is answered the same way.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from notes_app.notes.etags import etag, note_etag
from notes_app.notes.models import Note
from notes_app.notes.schemas import ROW_JSON_OPTIONS, public_note, public_note_row


@dataclass(frozen=True, slots=True)
class NoteAnswer:
    id: int
    etag: str
    # The NotePublic shape, for orjson.dumps with ROW_JSON_OPTIONS.
    public: dict[str, Any]

    def json(self) -> bytes:
        return orjson.dumps(self.public, option=ROW_JSON_OPTIONS)


def answer_from_row(row: Mapping[str, Any]) -> NoteAnswer:
    """From a `note` row as asyncpg returns it (jsonb as text, timestamps as aware datetimes)."""
    return NoteAnswer(id=row["id"], etag=note_etag(row["id"], row["version"]), public=public_note_row(row))


def answer_from_model(note: Note) -> NoteAnswer:
    return NoteAnswer(id=note.id, etag=etag(note), public=public_note(note))
