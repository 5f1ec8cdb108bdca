"""Rules for text that every domain stores."""


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
