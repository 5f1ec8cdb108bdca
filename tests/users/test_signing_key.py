"""Where the token signing key comes from, on each kind of deployment."""

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from notes_app.config import Settings
from notes_app.main import create_app
from notes_app.users.signing_key import MissingSecretKey, signing_key


def test_postgres_without_secret_key_refuses_to_start() -> None:
    settings = Settings(database_url="postgres://u@127.0.0.1:1/db", secret_key=None)

    with pytest.raises(MissingSecretKey, match="SECRET_KEY"):
        create_app(settings)


def test_an_explicit_secret_key_is_used_as_given() -> None:
    key = "k" * 40

    assert signing_key(Settings(database_url="postgres://u@h/db", secret_key=SecretStr(key))) == key


def test_a_short_secret_key_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(secret_key=SecretStr("too short"))


def test_sqlite_generates_a_private_key_beside_the_database_once(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite://{tmp_path / 'notes.sqlite3'}", secret_key=None)

    first, second = signing_key(settings), signing_key(settings)

    key_file = tmp_path / "notes.sqlite3.secret"
    assert first == second
    assert len(first) >= 32
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_corrupt_key_file_is_refused_not_silently_replaced(tmp_path: Path) -> None:
    (tmp_path / "notes.sqlite3.secret").write_text("short\n")
    settings = Settings(database_url=f"sqlite://{tmp_path / 'notes.sqlite3'}", secret_key=None)

    with pytest.raises(MissingSecretKey, match="delete it"):
        signing_key(settings)


def test_an_in_memory_database_gets_a_key_that_lives_with_the_process() -> None:
    settings = Settings(database_url="sqlite://:memory:", secret_key=None)

    assert signing_key(settings) != signing_key(settings)
