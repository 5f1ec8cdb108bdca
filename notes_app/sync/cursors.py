"""Signed cursors for the change feed and the deliveries list, made like the notes list's (pagination.py):
a position of whole numbers, signed with the cursor key together with the list it belongs to (the user,
the endpoint, the webhook), so a cursor altered or presented to another list fails the signature (422)."""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

import orjson

from notes_app.notes.pagination import InvalidCursor, cursor_key

_REFUSED = "the cursor is not valid here: it was altered, or given for another user or list"
_MAX_POSITION = 2**63 - 1  # every position is a BIGINT or smaller


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _encode(raw) != text:  # only the canonical spelling (see pagination._decode)
        raise ValueError("not canonical base64url")
    return raw


@dataclass(frozen=True)
class PositionSigner:
    key: bytes
    listing: bytes
    size: int  # how many numbers a position has

    @classmethod
    def for_list(cls, *, signing_key: str, listing: str, size: int) -> "PositionSigner":
        return cls(key=cursor_key(signing_key), listing=listing.encode(), size=size)

    def encode(self, position: tuple[int, ...]) -> str:
        payload = orjson.dumps(list(position))
        return f"{_encode(payload)}.{_encode(self._sign(payload))}"

    def decode(self, token: str) -> tuple[int, ...]:
        try:
            encoded_payload, encoded_signature = token.split(".")
            payload, signature = _decode(encoded_payload), _decode(encoded_signature)
        except (ValueError, binascii.Error):
            raise InvalidCursor(_REFUSED) from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCursor(_REFUSED)
        try:
            position = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise InvalidCursor(_REFUSED) from None
        if (
            not isinstance(position, list)
            or len(position) != self.size
            or not all(type(n) is int and 0 <= n <= _MAX_POSITION for n in position)
        ):
            raise InvalidCursor(_REFUSED)
        return tuple(position)

    def _sign(self, payload: bytes) -> bytes:
        # A label of its own per kind of list, so no cursor of the notes list verifies here or back.
        return hmac.digest(self.key, b"position\0" + self.listing + b"\0" + payload, hashlib.sha256)
