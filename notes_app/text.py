"""Rules for text that every domain stores, and the patterns that document them.

The OpenAPI document's patterns are ECMA-262 regular expressions (JSON Schema 2020-12, read with the
`u` flag), so they are written in the part of that dialect that means the same to Python's `re` and to
a JavaScript engine: explicit character classes rather than `\\s` or `\\w`, whose members differ
between the two (`\\w` is ASCII in ECMA-262 and any script in Python; Python's `\\s` includes
U+001C..U+001F, ECMA-262's includes U+FEFF). The validators enforce exactly what the patterns say, and
tests compare the two on every code point where they could disagree.
"""

from datetime import UTC, datetime

# Unicode's White_Space property: what trimming removes from titles and tags. Not str.strip()'s set,
# which adds the control characters U+001C..U+001F.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))  # the typographic spaces
    + "\u2028\u2029\u202f\u205f\u3000"
)
WHITE_SPACE_CLASS = "".join(f"\\u{ord(character):04x}" for character in WHITE_SPACE)
# PostgreSQL text cannot hold NUL. (Nor a lone surrogate, which `storable` refuses too; patterns cannot
# say so: such a string is not Unicode text, and engines such as Rust's regex cannot even spell it.)
_UNSTORABLE_CLASS = r"\x00"
STORABLE_PATTERN = rf"^[^{_UNSTORABLE_CLASS}]*$"


def trimmed_pattern(*, max_length: int) -> str:
    """The pattern of `trimmed`: 1..max_length storable characters once surrounding white space goes."""
    edge = rf"[^{WHITE_SPACE_CLASS}{_UNSTORABLE_CLASS}]"
    inner = rf"[^{_UNSTORABLE_CLASS}]"
    return rf"^[{WHITE_SPACE_CLASS}]*{edge}(?:{inner}{{0,{max_length - 2}}}{edge})?[{WHITE_SPACE_CLASS}]*$"


def trim(text: str) -> str:
    return text.strip(WHITE_SPACE)


def storable(text: str) -> str:
    """Refuse text that no database here can store, so it fails validation (422) on both databases.

    PostgreSQL text cannot hold NUL, and a lone surrogate (legal in JSON's \\u escapes) is not UTF-8:
    both would otherwise fail deep inside the driver.
    """
    if "\x00" in text:
        raise ValueError("text must not contain the NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return text


def rfc3339(value: datetime) -> str:
    """A timestamp as the API shows every timestamp: UTC, six fractional digits and `Z`, so clients can
    compare timestamps as strings (the same form as notes_app/notes/schemas.py's)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"
