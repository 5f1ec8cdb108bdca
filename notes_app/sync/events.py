"""Webhook event types: their names, the bit each has in `webhook.events`, and which change fires which."""

from notes_app.notes.changes import ChangeKind

EVENT_BITS: dict[str, int] = {
    "note.created": 1,
    "note.updated": 2,
    "note.deleted": 4,
    "note.restored": 8,
}
ALL_EVENTS = tuple(EVENT_BITS)

EVENT_OF_CHANGE: dict[ChangeKind, str] = {
    ChangeKind.CREATED: "note.created",
    ChangeKind.UPDATED: "note.updated",
    ChangeKind.TRASHED: "note.deleted",
    ChangeKind.RESTORED: "note.restored",
    # A purge is `note.deleted` only for a note that skipped the trash; a trashed note's deletion was
    # announced when it went to the trash, and receivers must not be told twice (see recorder.py).
    ChangeKind.PURGED: "note.deleted",
}


def events_mask(events: list[str]) -> int:
    mask = 0
    for name in events:
        mask |= EVENT_BITS[name]
    return mask


def events_of(mask: int) -> list[str]:
    return [name for name, bit in EVENT_BITS.items() if mask & bit]
