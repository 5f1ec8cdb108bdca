"""Entity tags for notes, and the conditional request headers that carry them (RFC 9110 13.1)."""

import re

from notes_app.notes.models import MAX_VERSION, Note

_OUR_TAG = re.compile(r'"(?P<id>[0-9]{1,10})-(?P<version>[0-9]{1,10})"')


def note_etag(note_id: int, version: int) -> str:
    """A strong tag from id and version: the version moves on every change, so the tag does too."""
    return f'"{note_id}-{version}"'


def etag(note: Note) -> str:
    return note_etag(note.id, note.version)


def _entity_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_match_versions(header: str | None, note_id: int) -> frozenset[int] | None:
    """The versions of note `note_id` that an If-Match header accepts; None when it sets no condition
    (absent, or `*`: any version of the note, which must exist: a missing one is 404 whatever the header).

    If-Match compares strongly: a weak tag (W/"...") never matches, and neither does a tag of another
    note or one that is not ours at all. An empty set means "can never match": the answer is 412.
    """
    if header is None:
        return None
    tags = _entity_tags(header)
    if tags == ["*"]:
        return None
    versions: set[int] = set()
    for tag in tags:
        # ASCII digits only, and only versions the 32-bit column can hold: "²" or a 5,000-digit
        # number can match no note, and must not reach int() or the database as a parameter.
        if (match := _OUR_TAG.fullmatch(tag)) and int(match["id"]) == note_id:
            version = int(match["version"])
            if 1 <= version <= MAX_VERSION:
                versions.add(version)
    return frozenset(versions)


def if_none_match_hits(header: str | None, current: str) -> bool:
    """Whether If-None-Match names the note's current tag (weak comparison, as RFC 9110 asks for GET)."""
    if header is None:
        return False
    return any(tag == "*" or tag.removeprefix("W/") == current for tag in _entity_tags(header))
