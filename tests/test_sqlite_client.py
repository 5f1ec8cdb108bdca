"""Several processes writing one SQLite file (notes_app/sqlite_client.py): a write waits for another
process's write transaction, and never fails half-way through its own transaction.

The other process is played by a plain sqlite3 connection with no busy timeout: where it would have to
wait, it is refused at once, so every step below happens in a known order without timing anything.
"""

import asyncio
import importlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise.backends.sqlite.client import SqliteClient
from tortoise.connection import get_connections

from notes_app.background import PeriodicTask, running
from notes_app.config import Settings
from notes_app.db import tortoise_config
from notes_app.notes.models import Note
from notes_app.notes.trash import purge_expired_trash
from notes_app.sqlite_client import DatabaseBusy
from notes_app.users.models import User
from tests.support import run_python

HANG_BOUND = 60.0  # only against a hang: nothing here waits for a lock that long


@pytest.fixture(autouse=True)
def _sqlite_only(dialect: str) -> None:
    if dialect != "sqlite":
        pytest.skip("SQLite's locking: PostgreSQL writers wait on row locks")


@asynccontextmanager
async def worker_client(url: str, settings: Settings, **overrides: Any) -> AsyncIterator[SqliteClient]:
    """The app's own connection to `url`, as a second worker process would configure it."""
    config = tortoise_config(settings.model_copy(update={"database_url": url, **overrides}))["connections"]["default"]
    client: SqliteClient = importlib.import_module(config["engine"]).client_class(
        connection_name="worker", **config["credentials"]
    )
    await client.create_connection(with_db=True)
    try:
        yield client
    finally:
        await client.close()


@contextmanager
def other_process(url: str) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(url.removeprefix("sqlite://"), timeout=0, isolation_level=None)) as connection:
        yield connection


def write(connection: sqlite3.Connection, username: str) -> None:
    connection.execute(
        'INSERT INTO "user" ("username", "password_hash", "created_at") VALUES (?, ?, ?)',
        [username, "!", datetime.now(UTC).isoformat()],
    )


@pytest.fixture
async def migrated(new_database: Callable[[], Any]) -> str:
    url: str = await new_database()
    run_python("-m", "notes_app.migrate", database_url=url)
    return url


async def test_a_transaction_that_reads_first_keeps_the_write_lock_from_its_start(
    migrated: str, settings: Settings
) -> None:
    """With a deferred BEGIN, the other process's commit between this transaction's read and its write made
    the write fail at once with "database is locked" (SQLITE_BUSY_SNAPSHOT), past any busy timeout."""
    async with worker_client(migrated, settings) as client:
        with other_process(migrated) as other:
            async with client._in_transaction() as transaction:
                assert not await User.filter(username="in transaction").using_db(transaction).exists()
                with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                    write(other, "other process")  # it would have to wait for this transaction
                await User.create(username="in transaction", password_hash="!", using_db=transaction)
            write(other, "other process")  # its turn now

            usernames = [row[0] for row in other.execute('SELECT "username" FROM "user" ORDER BY "id"')]
    assert usernames == ["in transaction", "other process"]


async def test_a_purge_beside_another_process_writing_waits_at_its_start_and_writes_nothing_early(
    migrated: str, settings: Settings
) -> None:
    """The purge's first statement deletes notes, and their full-text index reads its configuration
    before the delete takes the write lock: with a deferred BEGIN that read made the purge fail in the
    middle of its transaction without waiting. Now it waits for the lock at BEGIN; if the other process
    holds it past the busy timeout (here 1 ms), the purge stops there as DatabaseBusy, with nothing written."""
    async with worker_client(migrated, settings) as client:
        owner = await User.create(username="owner", password_hash="!", using_db=client)
        long_ago = datetime.now(UTC) - timedelta(days=90)
        await Note.create(
            title="old",
            owner_id=owner.id,
            created_at=long_ago,
            updated_at=long_ago,
            deleted_at=long_ago,
            using_db=client,
        )
        with other_process(migrated) as other:
            other.execute("BEGIN IMMEDIATE")
            write(other, "writer")
            async with worker_client(migrated, settings, db_acquire_timeout=0.001) as impatient:
                with pytest.raises(DatabaseBusy):
                    await purge(impatient)
            other.execute("COMMIT")

            assert await asyncio.wait_for(purge(client), HANG_BOUND) == 1
            assert other.execute('SELECT count(*) FROM "note"').fetchone()[0] == 0


async def purge(client: SqliteClient) -> int:
    """The expired-trash purge on `client`, reachable by its name as in_transaction looks it up."""
    token = get_connections().set(client.connection_name, client)
    try:
        return len(await purge_expired_trash(retention=timedelta(days=30), batch_size=10, connection_name="worker"))
    finally:
        get_connections().reset(token)


async def test_a_busy_database_leaves_the_connection_usable_and_background_work_logs_a_warning(
    migrated: str, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Tortoise's own transaction context keeps the client's lock when BEGIN fails: every later query of
    the process would wait forever. And a busy database is no bug: one warning line, no traceback."""
    ran = asyncio.Event()
    async with worker_client(migrated, settings, db_acquire_timeout=0.001) as client:
        with other_process(migrated) as other:
            other.execute("BEGIN IMMEDIATE")

            async def write_in_transaction() -> None:
                try:
                    async with client._in_transaction() as transaction:
                        await User.create(username="background", password_hash="!", using_db=transaction)
                finally:
                    ran.set()

            with caplog.at_level(logging.WARNING, logger="notes_app.background"):
                async with running([PeriodicTask("write", 3600, write_in_transaction)]):
                    await ran.wait()
            other.execute("COMMIT")

        async with asyncio.timeout(HANG_BOUND):
            await write_in_transaction()
        assert await User.filter(username="background").using_db(client).count() == 1

    [record] = [record for record in caplog.records if record.name == "notes_app.background"]
    assert record.levelno == logging.WARNING
    assert "database unavailable" in record.getMessage()
    assert record.exc_info is None


async def test_a_statement_outside_a_transaction_that_finds_the_database_busy_raises_database_busy(
    migrated: str, settings: Settings
) -> None:
    """Not Tortoise's OperationalError, which a request would answer with 500: DatabaseBusy is a 503."""
    async with worker_client(migrated, settings, db_acquire_timeout=0.001) as client:
        with other_process(migrated) as other:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(DatabaseBusy):
                await User.create(username="autocommit", password_hash="!", using_db=client)
            other.execute("ROLLBACK")
        await User.create(username="autocommit", password_hash="!", using_db=client)


def test_sqlite_connections_wait_for_the_write_lock_as_long_as_for_a_pooled_connection(
    settings: Settings, tmp_path: Path
) -> None:
    config = tortoise_config(
        settings.model_copy(update={"database_url": f"sqlite://{tmp_path / 'x.sqlite3'}", "db_acquire_timeout": 7.5})
    )
    assert config["connections"]["default"]["credentials"]["busy_timeout"] == 7500
