"""Tortoise's asyncpg client with a bound on how long a query waits for a pooled connection.

Tortoise acquires from the asyncpg pool without a timeout, so an exhausted pool (or a server that
stopped answering) makes requests queue forever. This engine passes `acquire_timeout` to every
acquire; Tortoise loads it by module path (`"engine": "notes_app.postgres_client"`).
"""

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


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
