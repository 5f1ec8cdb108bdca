"""File names for exported notes: from their titles, safe on every common file system, unique."""

import re
import unicodedata

# Separators, characters Windows refuses in names, and control characters.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
# Names Windows reserves for devices, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
# Most file systems allow 255 bytes per name; leave room for " (id-n)" and ".md".
_MAX_STEM_BYTES = 200


def safe_stem(title: str) -> str:
    stem = _UNSAFE.sub("_", unicodedata.normalize("NFC", title))
    stem = " ".join(stem.split())
    # Cut at a character boundary, not in the middle of one.
    stem = stem.encode()[:_MAX_STEM_BYTES].decode(errors="ignore")
    # Windows drops trailing dots and spaces; a leading dot hides the file on Unix.
    stem = stem.strip(" .")
    if not stem:
        return "untitled"
    if stem.split(".", 1)[0].lower() in _RESERVED:
        stem = f"_{stem}"
    return stem


class UniqueNames:
    """Hands out `Title.md`, then `Title (id).md` for later notes whose name is taken, compared as a
    case-insensitive file system would. Keeps one hash per name (about 60 bytes per note, not the
    names themselves); a collision of hashes only makes a name longer, never two names alike."""

    def __init__(self) -> None:
        self._taken: set[int] = set()

    def _claim(self, name: str) -> bool:
        key = hash(name.casefold())
        if key in self._taken:
            return False
        self._taken.add(key)
        return True

    def name_for(self, *, title: str, note_id: int) -> str:
        stem = safe_stem(title)
        if self._claim(name := f"{stem}.md"):
            return name
        if self._claim(name := f"{stem} ({note_id}).md"):
            return name
        attempt = 2
        while not self._claim(name := f"{stem} ({note_id}-{attempt}).md"):
            attempt += 1
        return name
