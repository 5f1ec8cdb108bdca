"""notes_app's signed keyset cursors, written by hand for raw_full: the same tokens, byte for byte.

A cursor is `base64url(payload).base64url(HMAC-SHA256)`, unpadded. The payload is the JSON
`["<updated_at in UTC, isoformat>", id]`; the signature covers the list's identity (owner, sort,
filters), a NUL and the payload, under a key derived from SECRET_KEY (notes_app/notes/pagination.py).
raw_full serves one list: the owner's live, unarchived notes, newest first, no filters.
"""

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime

import orjson

_LABEL = b"notes_app cursor signing key v1"


class InvalidCursor(ValueError):
    pass


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:  # only the canonical spelling, as notes_app accepts
        raise ValueError("not canonical base64url")
    return raw


class Cursors:
    def __init__(self, secret_key: str) -> None:
        self._key = hmac.digest(secret_key.encode(), _LABEL, hashlib.sha256)

    @staticmethod
    def _listing(owner_id: int) -> bytes:
        # orjson.dumps([owner_id, "-updated_at", NoteFilters()]) in notes_app: the default list.
        return b'[%d,"-updated_at",{"archived":false,"pinned":null,"tags":[],"text":null}]' % owner_id

    def _sign(self, owner_id: int, payload: bytes) -> bytes:
        return hmac.digest(self._key, self._listing(owner_id) + b"\0" + payload, hashlib.sha256)

    def encode(self, owner_id: int, updated_at: datetime, note_id: int) -> str:
        payload = orjson.dumps([updated_at.astimezone(UTC).isoformat(), note_id])
        return f"{_b64(payload)}.{_b64(self._sign(owner_id, payload))}"

    def decode(self, owner_id: int, token: str) -> tuple[datetime, int]:
        try:
            encoded_payload, encoded_signature = token.split(".")
            payload, signature = _unb64(encoded_payload), _unb64(encoded_signature)
            if not hmac.compare_digest(signature, self._sign(owner_id, payload)):
                raise InvalidCursor
            value, note_id = orjson.loads(payload)
            updated_at = datetime.fromisoformat(value)
        except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
            raise InvalidCursor from None
        if type(note_id) is not int or not 1 <= note_id < 2**31 or updated_at.tzinfo is None:
            raise InvalidCursor
        return updated_at, note_id
