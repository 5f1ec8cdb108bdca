"""File names for exported notes: from their titles, safe on every common file system, unique."""

import hashlib
import re
import unicodedata

# Separators, characters Windows refuses in names, and control characters.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
# Names Windows reserves for devices, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
# Most file systems allow 255 bytes per name; leave room for " (id)" and ".md".
_MAX_STEM_BYTES = 200
# UniqueNames' Bloom filter: 2 MiB per export in progress, 4 hashes. With n names in m bits a name not
# taken looks taken with probability (1 - e^(-4n/m))^4: 3e-7 at 100,000 names, 2e-3 at a million.
_FILTER_BYTES = 2 * 1024 * 1024
_FILTER_BITS = _FILTER_BYTES * 8
_HASHES = 4
# How a name with an id ends: a plain name never does (`Chapter (2)` is given its id too).
_WITH_ID = re.compile(r" \([0-9]+\)$")


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
    """Hands out `Title.md`, and `Title (id).md` when that name is taken (compared as a case-insensitive
    file system would) or looks like such a name itself.

    A name with an id is unique by construction: ids are unique, and no plain name ends like one. Plain
    names taken are kept in a Bloom filter of fixed size, so memory does not grow with the number of
    notes. A Bloom filter never forgets a name it was given, so no plain name is handed out twice; it may
    wrongly believe a name taken, which only adds the note's id (about 1 note in 500 at a million notes,
    see _FILTER_BYTES). The hash is BLAKE2, not Python's per-process `hash()`: the same notes in the
    same order get the same names in the export's two passes, and in every export."""

    def __init__(self) -> None:
        self._bits = bytearray(_FILTER_BYTES)

    def _claim(self, name: str) -> bool:
        digest = hashlib.blake2b(name.casefold().encode(), digest_size=4 * _HASHES).digest()
        positions = [int.from_bytes(digest[4 * n : 4 * n + 4], "little") % _FILTER_BITS for n in range(_HASHES)]
        taken = all(self._bits[position >> 3] & (1 << (position & 7)) for position in positions)
        for position in positions:
            self._bits[position >> 3] |= 1 << (position & 7)
        return not taken

    def name_for(self, *, title: str, note_id: int) -> str:
        stem = safe_stem(title)
        if _WITH_ID.search(stem) is None and self._claim(name := f"{stem}.md"):
            return name
        return f"{stem} ({note_id}).md"
