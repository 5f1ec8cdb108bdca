"""Where the token signing key comes from.

`make run` must work without any configuration, so an SQLite deployment gets a key generated on first
start and kept in a file beside the database (`notes.sqlite3.secret`). A PostgreSQL deployment is a
real one: it must be given SECRET_KEY, and refuses to start without it rather than invent a key that
each worker or restart would disagree on.
"""

import os
import secrets
from pathlib import Path

from notes_app.config import Settings

_IN_MEMORY = "sqlite://:memory:"


class MissingSecretKey(RuntimeError):
    pass


def _sqlite_path(database_url: str) -> Path:
    return Path(database_url.split("://", 1)[1].split("?", 1)[0])


def _read_or_create(path: Path) -> str:
    try:
        # O_EXCL: of two processes starting at once, one creates the key and the other reads it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:
            raise MissingSecretKey(f"{path} holds no usable key: delete it to generate a new one") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(key + "\n")
    return key


def signing_key(settings: Settings) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.dialect == "postgres":
        raise MissingSecretKey("SECRET_KEY must be set (32 characters or more) when DATABASE_URL is PostgreSQL")
    if settings.database_url == _IN_MEMORY:
        return secrets.token_urlsafe(48)  # the data dies with the process, and so may its tokens
    database = _sqlite_path(settings.database_url)
    return _read_or_create(database.with_name(database.name + ".secret"))
