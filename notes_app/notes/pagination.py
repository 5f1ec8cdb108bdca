"""Keyset pagination: the sorts a list can take, and the signed cursor that marks where the next page starts."""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal, get_args

import orjson
from tortoise.expressions import Q

from notes_app.notes.models import MAX_NOTE_ID

SortName = Literal["-updated_at", "updated_at", "-created_at", "created_at"]


@dataclass(frozen=True)
class Cursor:
    """The last note of a page, by its sort key: the next page starts after it."""

    value: datetime
    id: int


@dataclass(frozen=True)
class Sort:
    """An order on one timestamp column, ties broken by id in the same direction."""

    name: SortName
    field: str
    descending: bool

    @property
    def order_by(self) -> tuple[str, str]:
        sign = "-" if self.descending else ""
        return f"{sign}{self.field}", f"{sign}id"

    def after(self, cursor: Cursor) -> Q:
        """Notes strictly after the cursor's note in this order: (field, id) past (value, id).

        Spelled `field <= value AND (field < value OR id < cursor id)` (>=, > when ascending), not the
        equivalent `field < value OR (field = value AND id < cursor id)`: both databases start the index
        scan at a bare range on `field`, so a page 2,000 pages deep costs what the first page costs.
        Behind a top-level OR, PostgreSQL reads the index from the start and filters its way down.
        """
        past, reached = ("lt", "lte") if self.descending else ("gt", "gte")
        bound: dict[str, Any] = {f"{self.field}__{reached}": cursor.value}
        beyond: dict[str, Any] = {f"{self.field}__{past}": cursor.value}
        tie_beyond: dict[str, Any] = {f"id__{past}": cursor.id}
        return Q(**bound) & (Q(**beyond) | Q(**tie_beyond))


SORTS: dict[SortName, Sort] = {
    name: Sort(name, name.removeprefix("-"), descending=name.startswith("-")) for name in get_args(SortName)
}
DEFAULT_SORT: SortName = "-updated_at"


class InvalidCursor(ValueError):
    pass


# A cursor handed to one listing and presented to another (another user, sort or filters) would name a
# position that means nothing there; it is refused exactly like an altered one.
_REFUSED = "the cursor is not valid for this list: it was altered, or given for another user, sort or filters"
_LABEL = b"notes_app cursor signing key v1"


@lru_cache(maxsize=4)  # one signing key per app; deriving it again on every page is wasted work
def cursor_key(signing_key: str) -> bytes:
    """The key that signs cursors, derived from the app's token signing key.

    A key of its own, so that no signature made for a cursor can ever stand for a token or the reverse;
    derived, so that it needs no setting: HMAC-SHA256 of a fixed label under the secret (a PRF, NIST SP
    800-108) is independent of the secret for every other use. HKDF's extract step adds nothing when the
    secret is already a key. Changing SECRET_KEY retires every cursor along with every token.
    """
    return hmac.digest(signing_key.encode(), _LABEL, hashlib.sha256)


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # b64decode skips characters outside the alphabet and the unused low bits of the last one, so
    # different strings can decode alike: only the canonical spelling of the bytes is accepted.
    if _encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


@dataclass(frozen=True)
class CursorSigner:
    """Turns cursors into opaque tokens that are valid for one list only, and back.

    `listing` names the list in canonical bytes: the user, the sort and the filters. It is signed with
    the cursor but not carried in the token, so a token presented with another user, sort or filters
    fails the signature check, like an altered one: a 422, never a wrong page. A token does not expire:
    keyset positions stay meaningful whatever is written later.
    """

    key: bytes
    listing: bytes

    def encode(self, cursor: Cursor) -> str:
        # In UTC, as stored: SQLite compares timestamps as text, so only the same offset compares right.
        return self.encode_position([cursor.value.astimezone(UTC).isoformat(), cursor.id])

    def decode(self, token: str) -> Cursor:
        # Signed here, so well-formed unless the key leaked: checked anyway, as it costs nothing.
        try:
            value, note_id = self.decode_position(token)
            cursor = Cursor(value=datetime.fromisoformat(value), id=note_id)
        except (TypeError, ValueError):
            raise InvalidCursor(_REFUSED) from None
        if type(cursor.id) is not int or not 1 <= cursor.id <= MAX_NOTE_ID or cursor.value.tzinfo is None:
            raise InvalidCursor(_REFUSED)
        return cursor

    def encode_position(self, position: Any) -> str:
        """Any JSON value as a cursor of this list (other lists page by other keys than a timestamp)."""
        payload = orjson.dumps(position)
        return f"{_encode(payload)}.{_encode(self._sign(payload))}"

    def decode_position(self, token: str) -> Any:
        """The JSON value `encode_position` signed, or InvalidCursor; the caller checks its shape."""
        try:
            encoded_payload, encoded_signature = token.split(".")
            payload, signature = _decode(encoded_payload), _decode(encoded_signature)
        except (ValueError, binascii.Error):
            raise InvalidCursor(_REFUSED) from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCursor(_REFUSED)
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise InvalidCursor(_REFUSED) from None

    def _sign(self, payload: bytes) -> bytes:
        # orjson never writes a raw NUL byte, so it separates the two parts unambiguously.
        return hmac.digest(self.key, self.listing + b"\0" + payload, hashlib.sha256)
