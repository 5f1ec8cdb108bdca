"""Wakes the change feed's long polls when a change for their owner commits, in any worker process.

PostgreSQL: the writing transaction sends `pg_notify('notes_changes', owner_id)` (recorder.py), delivered
at commit to every listener. Each process listens on ONE dedicated connection of its own, outside the
pool: LISTEN is session state, and pooled connections keep none (notes_app/postgres_client.py releases
them without a reset). Waiting requests hold no connection at all: they wait on an asyncio.Event and
query again, through the pool, once woken.

SQLite: the writer wakes this process's waiters itself (recorder.py). Writes by other processes sharing
the file are noticed through `PRAGMA data_version`, which changes when another connection commits,
read a few times a second while anyone is waiting.

Whenever the listener (re)connects, every waiter is woken to query again: a change committed while no
one was listening is found by that query, so none is missed, only answered late.
"""

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url

from notes_app.errors import ProblemError

CHANNEL = "notes_changes"
# How often waiters on SQLite check whether another process committed.
SQLITE_POLL_SECONDS = 0.2
# How long a new waiter waits for the listener to be connected before it relies on its timeout alone.
LISTENER_READY_SECONDS = 5.0

logger = logging.getLogger(__name__)

_notifiers: "weakref.WeakSet[ChangeNotifier]" = weakref.WeakSet()


def wake_local_waiters(owner_id: int) -> None:
    """Wake this process's long polls for `owner_id` (SQLite's in-process notification)."""
    for notifier in list(_notifiers):
        notifier.wake(owner_id)


class TooManyWaiters(ProblemError):
    status = 429

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"at most {limit} long polls may wait at once per user: retry, or poll without `wait`",
            headers={"Retry-After": "1"},
        )


class ChangeNotifier:
    def __init__(self, *, database_url: str, dialect: str, max_waiters_per_user: int) -> None:
        self._database_url = database_url
        self._dialect = dialect
        self._max_waiters = max_waiters_per_user
        self._waiters: dict[int, set[asyncio.Event]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        _notifiers.add(self)

    @property
    def waiting(self) -> int:
        return sum(len(events) for events in self._waiters.values())

    def wake(self, owner_id: int) -> None:
        for event in self._waiters.get(owner_id, ()):
            event.set()

    def wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    @contextlib.asynccontextmanager
    async def waiting_for(self, owner_id: int) -> AsyncIterator[asyncio.Event]:
        """An Event set whenever a change for `owner_id` may have committed, while the block runs.
        Register before querying, so a change committed between the query and the wait still wakes it."""
        events = self._waiters.setdefault(owner_id, set())
        if len(events) >= self._max_waiters:
            raise TooManyWaiters(self._max_waiters)
        event = asyncio.Event()
        events.add(event)
        try:
            self._start_watching()
            if self._dialect == "postgres":
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LISTENER_READY_SECONDS):
                        await self._listening.wait()
            yield event
        finally:
            events.discard(event)
            if not events:
                del self._waiters[owner_id]

    def _start_watching(self) -> None:
        if self._watcher is None or self._watcher.done():
            watch = self._listen_postgres if self._dialect == "postgres" else self._poll_sqlite
            self._watcher = asyncio.create_task(watch(), name="change-notifier")

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        self.wake_all()

    def _on_notify(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        try:
            self.wake(int(payload))
        except ValueError:
            logger.warning("ignored a %s notification with payload %r", CHANNEL, payload[:40])

    async def _listen_postgres(self) -> None:
        credentials = expand_db_url(self._database_url)["credentials"]
        backoff = 0.5
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(
                    host=credentials.get("host"),
                    port=credentials.get("port"),
                    user=credentials.get("user"),
                    password=credentials.get("password"),
                    database=credentials.get("database"),
                    timeout=LISTENER_READY_SECONDS,
                    server_settings={"application_name": "notes_app listener"},
                )
                try:
                    connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                    await connection.add_listener(CHANNEL, self._on_notify)
                    self._listening.set()
                    self.wake_all()  # what committed while nobody listened is found by querying again
                    backoff = 0.5
                    await lost.wait()
                finally:
                    self._listening.clear()
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=1)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("change listener disconnected: %r; reconnecting in %.1f s", exc, backoff)
            self.wake_all()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _poll_sqlite(self) -> None:
        connection = connections.get("default")
        last: int | None = None
        while self._waiters:
            try:
                _, rows = await connection.execute_query("PRAGMA data_version")
            except Exception:  # a closing database: the waiters' own queries report it
                logger.warning("PRAGMA data_version failed", exc_info=True)
                return
            version = rows[0][0]
            # The first reading is a baseline taken after some waiters already queried: wake them to
            # query once more, so a commit between their query and the baseline is not missed.
            if version != last:
                self.wake_all()
            last = version
            await asyncio.sleep(SQLITE_POLL_SECONDS)
