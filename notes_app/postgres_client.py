"""Tortoise's asyncpg client, tuned for this service. Tortoise loads it by module path
(`"engine": "notes_app.postgres_client"`).

- Every acquire from the pool has a timeout: Tortoise acquires without one, so an exhausted pool (or a
  server that stopped answering) would make requests queue forever.
- Waiting for a connection is first come, first served (see `FairPool`).
- Connections skip asyncpg's session reset on release (see `SessionlessConnection`).
"""

import asyncio
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


class SessionlessConnection(asyncpg.Connection):  # type: ignore[misc]
    """Releases a connection to the pool without the reset query (`SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`), a second round trip on every request that cost PostgreSQL a
    third of its CPU per GET in our benchmark. Sound because this service keeps no session state:
    no SET, advisory locks, LISTEN or WITH HOLD cursors. asyncpg still rolls back a transaction left
    open. Adding any session state means removing this class."""

    def get_reset_query(self) -> str:
        return ""


class FairPool:
    """The asyncpg pool, acquired first come, first served and within a timeout; everything else passes
    through.

    asyncpg's pool hands connections out through an asyncio.Queue, which lets a newcomer overtake the
    waiters: a release wakes the first waiter, but until that task runs the connection sits in the
    queue, and a request arriving meanwhile takes it; the woken waiter finds the queue empty and goes
    back to the END of the line. Under load (64 clients, 5 connections) some requests lost that race
    again and again: waits for a connection of p50 28 ms but p99 229 ms and max 569 ms on GET /notes/{id}.
    asyncio.Semaphore hands a released slot to its first waiter (and makes newcomers queue behind it),
    so a semaphore as wide as the pool, taken before the pool's own acquire, makes the wait FIFO; the
    pool's queue then always holds a connection for whoever holds a slot.
    """

    def __init__(self, pool: asyncpg.Pool, *, size: int, acquire_timeout: float) -> None:
        self._pool = pool
        # Bounded: a release without its acquire (a slot given back twice) raises instead of quietly
        # letting one more request at a time past the pool's size.
        self._turns = asyncio.BoundedSemaphore(size)
        self._acquire_timeout = acquire_timeout

    # Tortoise calls acquire() and release(connection) only: asyncpg's per-call timeouts are not offered.
    async def acquire(self) -> Any:
        # One bound over the turn and the connection: what the caller waits for in all.
        async with asyncio.timeout(self._acquire_timeout):
            await self._turns.acquire()
            try:
                return await self._pool.acquire()
            except BaseException:
                self._turns.release()
                raise

    async def release(self, connection: Any) -> None:
        try:
            await self._pool.release(connection)
        finally:
            self._turns.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class BoundedAcquireClient(AsyncpgDBClient):
    connection_class = SessionlessConnection

    def __init__(self, *, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acquire_timeout = acquire_timeout

    async def create_pool(self, **kwargs: Any) -> Any:
        pool = await super().create_pool(**kwargs)
        return FairPool(pool, size=kwargs["max_size"], acquire_timeout=self.acquire_timeout)

    def pool_stats(self) -> tuple[int, int] | None:
        """(connections open, connections idle); None before the first query opens the pool."""
        if self._pool is None:
            return None
        return self._pool.get_size(), self._pool.get_idle_size()


client_class = BoundedAcquireClient
