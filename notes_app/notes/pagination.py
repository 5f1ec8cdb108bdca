"""Keyset pagination: sorts, and the opaque cursor that marks where the next page starts."""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from tortoise.expressions import Q

from notes_app.notes.models import MAX_NOTE_ID


@dataclass(frozen=True)
class Sort:
    """An order on one timestamp column, ties broken by id in the same direction."""

    name: str
    field: str
    descending: bool

    @property
    def order_by(self) -> tuple[str, str]:
        sign = "-" if self.descending else ""
        return f"{sign}{self.field}", f"{sign}id"

    def after(self, cursor: "Cursor") -> Q:
        """Rows strictly after the cursor's row in this order: (field, id) past (value, id)."""
        past = "lt" if self.descending else "gt"
        beyond: dict[str, Any] = {f"{self.field}__{past}": cursor.value}
        tied: dict[str, Any] = {self.field: cursor.value, f"id__{past}": cursor.id}
        return Q(**beyond) | Q(**tied)


SORTS = {sort.name: sort for sort in (Sort("-updated_at", "updated_at", descending=True),)}
DEFAULT_SORT = SORTS["-updated_at"]


@dataclass(frozen=True)
class Cursor:
    sort: str
    value: datetime
    id: int


class InvalidCursor(ValueError):
    pass


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps([cursor.sort, cursor.value.isoformat(), cursor.id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str, *, sort: Sort) -> Cursor:
    """The cursor a previous page handed out for this sort; anything else is InvalidCursor."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        sort_name, value, note_id = orjson.loads(raw)
        cursor = Cursor(sort=sort_name, value=datetime.fromisoformat(value), id=note_id)
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError):
        raise InvalidCursor("the cursor is not one this service issued") from None
    if cursor.sort != sort.name:
        raise InvalidCursor(f"the cursor belongs to sort {cursor.sort!r}, not {sort.name!r}")
    if type(cursor.id) is not int or not 1 <= cursor.id <= MAX_NOTE_ID or cursor.value.tzinfo is None:
        raise InvalidCursor("the cursor is not one this service issued")
    return cursor
