"""Tortoise's SQLite client, with transactions that take the write lock when they begin. Tortoise loads it by
module path (`"engine": "notes_app.sqlite_client"`).

Several processes (uvicorn workers, or `make migrate` beside a running server) may share one SQLite file.
Tortoise begins every transaction with a plain, deferred `BEGIN`: the transaction takes no lock until its
first statement, and if that statement reads before it writes (a SELECT first, or an FTS5 trigger loading
the index's configuration when a connection first writes a note), it holds a read snapshot when it asks for
the write lock. SQLite then refuses at once with "database is locked" (SQLITE_BUSY, or SQLITE_BUSY_SNAPSHOT
when another process committed since the snapshot), without waiting: waiting could deadlock two such
upgraders, so the busy timeout does not apply. `BEGIN IMMEDIATE` asks for the write lock first, before
anything is read, and that request does wait (PRAGMA busy_timeout, from DB_ACQUIRE_TIMEOUT). Every
transaction of this service writes, so none loses anything by taking the lock early; in WAL mode readers
outside transactions never wait for it. Tortoise 1.1 has no setting for this
(https://github.com/tortoise/tortoise-orm/issues/1675), hence the subclasses.
"""

import sqlite3
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError, TransactionManagementError


class DatabaseBusy(OperationalError):
    """Another process held SQLite's write lock for longer than the busy timeout: a busy database, like a
    PostgreSQL pool that stayed exhausted (503 for a request, "try next time" for background work)."""


def _is_busy(exc: BaseException | None) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


T = TypeVar("T")
Statement = Callable[..., Coroutine[None, None, T]]  # the shape of Tortoise's own execute_* methods


def _busy_as_database_busy(method: Statement[T]) -> Statement[T]:
    """A statement outside a transaction that waited out the busy timeout raises DatabaseBusy, not the
    OperationalError Tortoise makes of it (a 500). Inside a transaction none can: BEGIN IMMEDIATE holds the lock."""

    @wraps(method)
    async def translated(self: SqliteClient, /, *args: Any) -> T:
        try:
            return await method(self, *args)
        except OperationalError as exc:
            if _is_busy(exc.__context__):
                raise DatabaseBusy(exc.__context__) from exc
            raise

    return translated


class _ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise DatabaseBusy(exc) from exc
            raise TransactionManagementError(exc) from exc


class _TransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> Any:
        # Tortoise's own __aenter__ leaves the client's lock taken (and the transaction set as the
        # current connection) when BEGIN fails, which would stop every later query of this process.
        # A BEGIN IMMEDIATE that found the database busy is such a failure, so this one undoes both.
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    execute_insert = _busy_as_database_busy(SqliteClient.execute_insert)
    execute_many = _busy_as_database_busy(SqliteClient.execute_many)
    execute_query = _busy_as_database_busy(SqliteClient.execute_query)
    execute_query_dict = _busy_as_database_busy(SqliteClient.execute_query_dict)
    execute_script = _busy_as_database_busy(SqliteClient.execute_script)

    def _in_transaction(self) -> SqliteTransactionContext:
        return _TransactionContext(_ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
