"""Tortoise's asyncpg client, tuned for this service. Tortoise loads it by module path
(`"engine": "notes_app.postgres_client"`).

- Every acquire from the pool has a timeout: Tortoise acquires without one, so an exhausted pool (or a
  server that stopped answering) would make requests queue forever.
- Connections skip asyncpg's session reset on release (see `_SessionlessConnection`).
"""

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


class _SessionlessConnection(asyncpg.Connection):  # type: ignore[misc]
    """Releases a connection to the pool without the reset query (`SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`), a second round trip on every request that cost PostgreSQL a
    third of its CPU per GET in our benchmark. Sound because this service keeps no session state:
    no SET, advisory locks, LISTEN or WITH HOLD cursors. asyncpg still rolls back a transaction left
    open. Adding any session state means removing this class."""

    def get_reset_query(self) -> str:
        return ""


class _AcquireTimeoutPool:
    """The asyncpg pool, with a default timeout on `acquire()`; everything else passes through."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return self._pool.acquire(timeout=self._acquire_timeout if timeout is None else timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class BoundedAcquireClient(AsyncpgDBClient):
    connection_class = _SessionlessConnection

    def __init__(self, *, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acquire_timeout = acquire_timeout

    async def create_pool(self, **kwargs: Any) -> Any:
        pool = await super().create_pool(**kwargs)
        return _AcquireTimeoutPool(pool, self.acquire_timeout)

    def pool_stats(self) -> tuple[int, int] | None:
        """(connections open, connections idle); None before the first query opens the pool."""
        if self._pool is None:
            return None
        return self._pool.get_size(), self._pool.get_idle_size()


client_class = BoundedAcquireClient
