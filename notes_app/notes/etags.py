"""Entity tags for notes, and the conditional request headers that carry them (RFC 9110 13.1)."""

from notes_app.notes.models import Note


def etag(note: Note) -> str:
    """A strong tag from id and version: the version moves on every change, so the tag does too."""
    return f'"{note.id}-{note.version}"'


def _entity_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_match_versions(header: str | None, note_id: int) -> frozenset[int] | None:
    """The versions of note `note_id` that an If-Match header accepts; None when it sets no condition
    (absent, or `*`: the note exists, which the route has already established).

    If-Match compares strongly: a weak tag (W/"...") never matches, and neither does a tag of another
    note or one that is not ours at all. An empty set means "can never match": the answer is 412.
    """
    if header is None:
        return None
    tags = _entity_tags(header)
    if tags == ["*"]:
        return None
    prefix = f'"{note_id}-'
    return frozenset(
        int(version)
        for tag in tags
        if tag.startswith(prefix) and tag.endswith('"') and (version := tag[len(prefix) : -1]).isdigit()
    )


def if_none_match_hits(header: str | None, note: Note) -> bool:
    """Whether If-None-Match names the note's current tag (weak comparison, as RFC 9110 asks for GET)."""
    if header is None:
        return False
    current = etag(note)
    return any(tag == "*" or tag.removeprefix("W/") == current for tag in _entity_tags(header))
