"""The notes API's input rules and response shapes."""

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator
from tortoise.contrib.pydantic import pydantic_model_creator

from notes_app.notes.models import Note
from notes_app.text import storable

MAX_TAGS = 20
# The documented patterns are the rules themselves, read as Python's `re` reads them (as do the
# tools that generate requests from the schema): \w is a letter or digit of any script, or "_".
TAG_PATTERN = r"^\s*[\w/-]{1,50}\s*$"
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _normalise_tag(tag: str) -> str:
    if not re.fullmatch(TAG_PATTERN, tag):
        raise ValueError("a tag is 1 to 50 letters, digits, '-', '_' or '/' (surrounding spaces aside)")
    # Stored lower-case and in NFC, so "Café" and "CAFÉ" are one tag.
    return unicodedata.normalize("NFC", tag.strip().lower())


def _collapse_tags(tags: list[str]) -> list[str]:
    return sorted(set(tags))


def _collapse_white_space(text: str) -> str:
    return " ".join(text.split())


Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(storable),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200, "pattern": NOT_BLANK}),
]
Body = Annotated[
    str,
    StringConstraints(max_length=100_000),
    AfterValidator(storable),
    WithJsonSchema({"type": "string", "maxLength": 100_000, "pattern": NO_NUL}),
]
Tag = Annotated[str, AfterValidator(_normalise_tag), WithJsonSchema({"type": "string", "pattern": TAG_PATTERN})]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_collapse_tags)]
# What to search for (`GET /notes?q=`): bounded, as is all the work one request can ask of the search
# index; runs of white space are one space.
SearchText = Annotated[
    str, StringConstraints(max_length=500), AfterValidator(storable), AfterValidator(_collapse_white_space)
]


class _NoteInput(BaseModel):
    # strict: JSON booleans are true/false, not "yes" or 1; forbid: a client cannot set id, version,
    # timestamps or an owner (mass assignment).
    model_config = ConfigDict(extra="forbid", strict=True)


class NoteCreate(_NoteInput):
    title: Title
    body: Body = ""
    tags: Tags = []
    pinned: bool = False
    archived: bool = False


class NoteReplace(NoteCreate):
    """PUT: the whole note; an omitted optional field returns to its default."""


def _absent_not_null(schema: dict[str, Any]) -> None:
    # Document each field as its value type alone: absent means "leave as is", null is refused.
    for field_schema in schema.get("properties", {}).values():
        field_schema.pop("default", None)
        branches = field_schema.pop("anyOf", None)
        if branches is not None:
            field_schema.update(next(branch for branch in branches if branch != {"type": "null"}))


class NotePatch(_NoteInput):
    """PATCH: any subset of the writable fields. None stands for "absent" only; the service applies
    `model_dump(exclude_unset=True)`, and an explicit null is refused per field."""

    model_config = ConfigDict(json_schema_extra=_absent_not_null)

    title: Title | None = None
    body: Body | None = None
    tags: Tags | None = None
    pinned: bool | None = None
    archived: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("null is not a value: omit the field to leave it unchanged")
        return value


MAX_BULK_NOTES = 500


class NoteBulkCreate(_NoteInput):
    """POST /notes/bulk: 1 to 500 notes, written all or nothing. An invalid note fails the whole
    request with its index in the error's `loc`."""

    notes: list[NoteCreate] = Field(min_length=1, max_length=MAX_BULK_NOTES)


NotePublic = pydantic_model_creator(Note, name="Note")


class NotePage(BaseModel):
    items: list[NotePublic]  # type: ignore[valid-type]
    next_cursor: str | None


class NoteBatch(BaseModel):
    items: list[NotePublic]  # type: ignore[valid-type]


def _timestamp(value: datetime) -> str:
    # Always six fractional digits and `Z`, so clients can compare timestamps as strings. isoformat
    # is several times faster than strftime, which showed in list pages (100 timestamps each).
    return value.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def public_note(note: Note) -> dict[str, Any]:
    """The note as the API shows it (the NotePublic shape), built directly from the model: going
    through the generated pydantic model would validate every field a second time per note."""
    return {
        "id": note.id,
        "title": note.title,
        "body": note.body,
        "tags": note.tags,
        "pinned": note.pinned,
        "archived": note.archived,
        "version": note.version,
        "created_at": _timestamp(note.created_at),
        "updated_at": _timestamp(note.updated_at),
    }
