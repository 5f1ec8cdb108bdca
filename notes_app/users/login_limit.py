"""Failed-login throttling per username, so a password cannot be guessed at speed."""

import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from notes_app.errors import ProblemError


class TooManyLoginAttempts(ProblemError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed logins for this username: retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


class LoginLimit:
    def __init__(self, *, failures_per_minute: int, storage_url: str) -> None:
        self._item = RateLimitItemPerMinute(failures_per_minute)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    async def take_attempt(self, username: str) -> None:
        """Count a login attempt before any hashing; 429 once the username's attempts are used up.

        Counted up front, not after a failed check: otherwise a burst of concurrent guesses would
        all pass before the first failure is recorded (each check takes ~100 ms of Argon2).
        """
        if not await self._limiter.hit(self._item, username):
            stats = await self._limiter.get_window_stats(self._item, username)
            raise TooManyLoginAttempts(max(1, math.ceil(stats.reset_time - time.time())))

    async def forgive(self, username: str) -> None:
        """A successful login clears the username's count: only failures should lock it."""
        await self._limiter.clear(self._item, username)
