"""Signed cursors for the change feed and the deliveries list: the notes list's signer (pagination.py)
over a position of whole numbers, signed together with the list it belongs to (the user, the endpoint,
the webhook), so a cursor altered or presented to another list fails the signature (422)."""

from dataclasses import dataclass

from notes_app.notes.pagination import CursorSigner, InvalidCursor, cursor_key

_REFUSED = "the cursor is not valid here: it was altered, or given for another user or list"
_MAX_POSITION = 2**63 - 1  # every position is a BIGINT or smaller


@dataclass(frozen=True)
class PositionSigner:
    signer: CursorSigner
    size: int  # how many numbers a position has

    @classmethod
    def for_list(cls, *, signing_key: str, listing: str, size: int) -> "PositionSigner":
        # A label of its own per kind of list, so no cursor of the notes list verifies here or back.
        signer = CursorSigner(key=cursor_key(signing_key), listing=b"position\0" + listing.encode())
        return cls(signer=signer, size=size)

    def encode(self, position: tuple[int, ...]) -> str:
        return self.signer.encode_position(list(position))

    def decode(self, token: str) -> tuple[int, ...]:
        try:
            position = self.signer.decode_position(token)
        except InvalidCursor:
            raise InvalidCursor(_REFUSED) from None  # in this list's words
        if (
            not isinstance(position, list)
            or len(position) != self.size
            or not all(type(n) is int and 0 <= n <= _MAX_POSITION for n in position)
        ):
            raise InvalidCursor(_REFUSED)
        return tuple(position)
