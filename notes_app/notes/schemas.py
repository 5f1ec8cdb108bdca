"""The notes API's input rules and response shapes."""

import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator
from tortoise.contrib.pydantic import pydantic_model_creator

from notes_app.notes.models import Note, NoteRevision
from notes_app.text import STORABLE_PATTERN, WHITE_SPACE_CLASS, storable, trim, trimmed_pattern

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_TITLE_LENGTH = 200
# Tags are Unicode: letters and digits of any script (Unicode categories L and N, what `\p{L}` and
# `\p{N}` mean to an ECMA-262 reader), "_", "-" and "/", surrounding white space aside.
TAG_PATTERN = rf"^[{WHITE_SPACE_CLASS}]*[\p{{L}}\p{{N}}_/-]{{1,{MAX_TAG_LENGTH}}}[{WHITE_SPACE_CLASS}]*$"
TITLE_PATTERN = trimmed_pattern(max_length=MAX_TITLE_LENGTH)


def _is_tag_character(character: str) -> bool:
    return character in "_/-" or unicodedata.category(character)[0] in "LN"


def _lower_case(character: str) -> str:
    # Lower-cased and in NFC, so "Café" and "CAFÉ" are one tag. A few characters would leave the tag
    # alphabet that way ("İ" lower-cases to "i" + a combining dot, some Indic letters decompose into a
    # letter and a mark): those stay as sent, so a stored tag is always a valid tag, and sending it
    # again stores it unchanged.
    lowered = unicodedata.normalize("NFC", character.lower())
    return lowered if all(map(_is_tag_character, lowered)) else character


def _normalise_tag(tag: str) -> str:
    trimmed = trim(tag)
    if not (1 <= len(trimmed) <= MAX_TAG_LENGTH and all(map(_is_tag_character, trimmed))):
        raise ValueError(
            f"a tag is 1 to {MAX_TAG_LENGTH} letters, digits, '-', '_' or '/' (surrounding white space aside)"
        )
    return "".join(map(_lower_case, trimmed))


def _trimmed_title(title: str) -> str:
    trimmed = trim(storable(title))
    if not 1 <= len(trimmed) <= MAX_TITLE_LENGTH:
        raise ValueError(f"a title is 1 to {MAX_TITLE_LENGTH} characters once surrounding white space is trimmed")
    return trimmed


def _collapse_tags(tags: list[str]) -> list[str]:
    return sorted(set(tags))


def _collapse_white_space(text: str) -> str:
    return " ".join(text.split())


Title = Annotated[str, AfterValidator(_trimmed_title), WithJsonSchema({"type": "string", "pattern": TITLE_PATTERN})]
Body = Annotated[
    str,
    StringConstraints(max_length=100_000),
    AfterValidator(storable),
    WithJsonSchema({"type": "string", "maxLength": 100_000, "pattern": STORABLE_PATTERN}),
]
Tag = Annotated[str, AfterValidator(_normalise_tag), WithJsonSchema({"type": "string", "pattern": TAG_PATTERN})]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_collapse_tags)]
# What to search for (`GET /notes?q=`): bounded, as is all the work one request can ask of the search
# index; runs of white space are one space.
SearchText = Annotated[
    str,
    StringConstraints(max_length=500),
    AfterValidator(storable),
    AfterValidator(_collapse_white_space),
    WithJsonSchema({"type": "string", "maxLength": 500, "pattern": STORABLE_PATTERN}),
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


# deleted_at is the trash's business: a live note has none, and the v1 shape stays as it was; change_seq
# is the change feed's bookkeeping, not part of the note.
NotePublic = pydantic_model_creator(Note, name="Note", exclude=("deleted_at", "change_seq"))


class TrashedNote(NotePublic):  # type: ignore[valid-type,misc]
    deleted_at: datetime


class TrashPage(BaseModel):
    items: list[TrashedNote]
    next_cursor: str | None


class Revision(BaseModel):
    """The state a version of a note had; `created_at` is when that version was written."""

    version: int
    title: str
    body: str
    tags: list[str]
    pinned: bool
    archived: bool
    created_at: datetime


class RevisionPage(BaseModel):
    items: list[Revision]
    next_cursor: str | None


class NotePage(BaseModel):
    items: list[NotePublic]  # type: ignore[valid-type]
    next_cursor: str | None


class NoteBatch(BaseModel):
    items: list[NotePublic]  # type: ignore[valid-type]


def timestamp(value: datetime) -> str:
    # Always six fractional digits and `Z`, so clients can compare timestamps as strings. isoformat
    # is several times faster than strftime, which showed in list pages (100 timestamps each).
    return value.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def public_revision(revision: NoteRevision) -> dict[str, Any]:
    return {
        "version": revision.version,
        "title": revision.title,
        "body": revision.body,
        "tags": revision.tags,
        "pinned": revision.pinned,
        "archived": revision.archived,
        "created_at": timestamp(revision.created_at),
    }


def trashed_note(note: Note) -> dict[str, Any]:
    assert note.deleted_at is not None
    return {**public_note(note), "deleted_at": timestamp(note.deleted_at)}


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
        "created_at": timestamp(note.created_at),
        "updated_at": timestamp(note.updated_at),
    }


# How pages of rows are written (notes_app/notes/pages.py): orjson writes an aware UTC datetime as
# `timestamp` does, but several times faster, when it has microseconds (without, it leaves the fraction out).
ROW_JSON_OPTIONS = orjson.OPT_UTC_Z
# The fields a page answers, in the order `public_note` writes them: all that the page statement selects.
PUBLIC_NOTE_FIELDS = ("id", "title", "body", "tags", "pinned", "archived", "version", "created_at", "updated_at")
# What `timestamp` writes after the seconds when there is no fraction: orjson's text needs it put back.
_NO_FRACTION = b'.000000Z"'


def _row_timestamp(value: datetime) -> datetime | orjson.Fragment | str:
    if value.tzinfo is not UTC:
        return timestamp(value)
    if value.microsecond:
        return value
    # A whole second: orjson's own text with the zero fraction added, as a Fragment it copies as it is.
    # Three times cheaper than isoformat(), which every note of a page imported at whole seconds paid twice.
    return orjson.Fragment(orjson.dumps(value, option=ROW_JSON_OPTIONS)[:-2] + _NO_FRACTION)


def public_note_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """`public_note` of a `note` row as asyncpg returns it (jsonb as its text, timestamps as aware UTC
    datetimes), for orjson with ROW_JSON_OPTIONS: what the model would give, without building one.
    tests/notes/test_pages.py proves the bytes agree for every field."""
    return {
        "id": row["id"],
        "title": row["title"],
        "body": row["body"],
        "tags": orjson.loads(row["tags"]),
        "pinned": row["pinned"],
        "archived": row["archived"],
        "version": row["version"],
        "created_at": _row_timestamp(row["created_at"]),
        "updated_at": _row_timestamp(row["updated_at"]),
    }
