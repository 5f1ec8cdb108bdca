"""Failed-login throttling per username, so a password cannot be guessed at speed."""

import asyncio
import logging
import math
import time
from collections.abc import Awaitable
from typing import TypeVar

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from notes_app.errors import RETRY_AFTER_SECONDS, ProblemError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class TooManyLoginAttempts(ProblemError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed logins for this username: retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


class LoginLimitUnavailable(ProblemError):
    """503: the shared count (LOGIN_LIMIT_STORAGE) cannot be reached. Logins wait for it rather than go
    uncounted, which would let guesses through at speed; notes, which do not need it, keep working."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "logins are unavailable for a moment: retry after the delay in Retry-After",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


class LoginLimit:
    def __init__(self, *, failures_per_minute: int, storage_url: str, timeout_seconds: float) -> None:
        self._timeout_seconds = timeout_seconds
        self._item = RateLimitItemPerMinute(failures_per_minute)
        # wrap_exceptions: whatever the backend's driver raises (coredis for Redis) arrives as StorageError.
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url, wrap_exceptions=True))

    async def _storage(self, operation: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout_seconds):
                return await operation
        except (StorageError, TimeoutError) as error:
            logger.warning("the login limit's storage is unavailable: %r", error)
            raise LoginLimitUnavailable() from None

    async def take_attempt(self, username: str) -> None:
        """Count a login attempt before any hashing; 429 once the username's attempts are used up.

        Counted up front, not after a failed check: otherwise a burst of concurrent guesses would
        all pass before the first failure is recorded (each check takes tens of milliseconds of Argon2).
        """
        if not await self._storage(self._limiter.hit(self._item, username)):
            stats = await self._storage(self._limiter.get_window_stats(self._item, username))
            raise TooManyLoginAttempts(max(1, math.ceil(stats.reset_time - time.time())))

    async def forgive(self, username: str) -> None:
        """A successful login clears the username's count: only failures should lock it."""
        await self._storage(self._limiter.clear(self._item, username))
