"""Whether the database answers, within a bound that nothing can stretch."""

import asyncio
from collections.abc import Awaitable, Callable


class DatabaseProbe:
    """Answers "does the database answer?" within `timeout` seconds, whatever the database does.

    Cancelling a query does not end it at once: asyncpg then cancels it on the server and cleans the
    connection up before the pool takes it back, and against a server that accepts connections but
    never answers that clean-up waits out its own timeouts (an `asyncio.timeout(2)` around the ping
    answered after 7 s). So the ping runs in a task of its own, and the probe stops waiting for it at
    the bound; the task ends in the background, bounded by the pool's acquire timeout and asyncpg's
    command timeout. One ping at a time: probes that arrive while it is still running wait for that
    one, so a hung database does not collect a ping (and a connection attempt) per probe.
    """

    def __init__(
        self, ping: Callable[[], Awaitable[None]], *, timeout: float, unavailable: tuple[type[Exception], ...]
    ) -> None:
        self._ping = ping
        self._timeout = timeout
        self._unavailable = unavailable
        self._running: asyncio.Task[None] | None = None

    async def database_answers(self) -> bool:
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._ping_once())
            # A ping whose probes all stopped waiting still has its outcome read: no "exception was
            # never retrieved" noise when it fails later.
            self._running.add_done_callback(_read_outcome)
        ping = self._running
        done, _ = await asyncio.wait({ping}, timeout=self._timeout)
        if not done:
            return False
        failure = ping.exception()
        if failure is None:
            return True
        if isinstance(failure, self._unavailable):
            return False
        raise failure  # not an outage but a bug: a 500, logged with its traceback

    async def _ping_once(self) -> None:
        await self._ping()


def _read_outcome(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
