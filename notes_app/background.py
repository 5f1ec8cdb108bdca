"""The one place the app's lifespan starts and stops background work.

Periodic tasks run every `interval` seconds from startup to shutdown; loops (webhook delivery) run
continuously. Each is a plain async function of its domain, written so that several workers (processes)
running it at once do each unit of work once: they need no leader, and none waits for another.

Stopping never cuts a database statement short if it can help it: a statement cancelled mid-flight costs
its pooled connection (closed without a goodbye), and against a database that stopped answering its
clean-up can hold the process's exit. So shutdown sets a stop Event that every task watches between
statements, waits up to STOP_GRACE_SECONDS, and only then cancels (and waits as long again at most).
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from notes_app.config import Settings
from notes_app.db import DATABASE_UNAVAILABLE
from notes_app.idempotency.service import purge_expired_keys
from notes_app.notes.trash import purge_expired_trash
from notes_app.sync.feed import prune_tombstones

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    interval: float  # seconds between the end of one run and the start of the next
    run: Callable[[], Awaitable[object]]


# A loop that runs until the Event it is given is set (notes_app/sync/delivery.py: run_deliveries).
Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


async def purge_expired(settings: Settings) -> None:
    """Trash past TRASH_RETENTION_DAYS and Idempotency-Keys past IDEMPOTENCY_KEY_HOURS, deleted for good;
    and the change feed's tombstones past TOMBSTONE_RETENTION_DAYS."""
    trash = await purge_expired_trash(
        retention=timedelta(days=settings.trash_retention_days), batch_size=settings.purge_batch_size
    )
    keys = await purge_expired_keys(batch_size=settings.purge_batch_size)
    tombstones = await prune_tombstones(retention=timedelta(days=settings.tombstone_retention_days))
    if trash or keys or tombstones:
        logger.info(
            "purged %d expired trashed notes, %d expired idempotency keys and %d tombstones",
            len(trash),
            keys,
            tombstones,
        )


def periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    return [PeriodicTask("purge", settings.purge_interval_seconds, lambda: purge_expired(settings))]


async def _repeat(task: PeriodicTask, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await task.run()
        except DATABASE_UNAVAILABLE as exc:
            logger.warning("periodic task %s: database unavailable: %r", task.name, exc)
        except Exception:
            # A bug in one run must not end the loop for the life of the process: logged with its
            # traceback, and the next run tries again.
            logger.exception("periodic task %s failed", task.name)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(task.interval):
                await stop.wait()


@contextlib.asynccontextmanager
async def running(tasks: list[PeriodicTask], loops: Sequence[tuple[str, Loop]] = ()) -> AsyncIterator[None]:
    """Run `tasks` and `loops` in the background while the block runs; stop them, and wait for them, at
    its end (within the grace periods)."""
    stop = asyncio.Event()
    started = [asyncio.create_task(_repeat(task, stop), name=f"notes_app {task.name}") for task in tasks]
    started += [asyncio.create_task(loop(stop), name=f"notes_app {name}") for name, loop in loops]
    try:
        yield
    finally:
        stop.set()
        _, still_running = await asyncio.wait(started, timeout=STOP_GRACE_SECONDS) if started else (set(), set())
        for task in still_running:
            task.cancel()
        if still_running:
            _, stuck = await asyncio.wait(still_running, timeout=STOP_GRACE_SECONDS)
            if stuck:
                logger.warning("background tasks did not stop: %s", ", ".join(t.get_name() for t in stuck))
