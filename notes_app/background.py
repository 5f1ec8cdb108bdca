"""The one place the app's lifespan starts and stops periodic work.

Each task is a plain async function of its domain, run every `interval` seconds from startup to
shutdown, and written so that several workers (processes) running it at once do each unit of work
once: they need no leader, and none waits for another.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from notes_app.config import Settings
from notes_app.db import DATABASE_UNAVAILABLE
from notes_app.idempotency.service import purge_expired_keys
from notes_app.notes.trash import purge_expired_trash

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    interval: float  # seconds between the end of one run and the start of the next
    run: Callable[[], Awaitable[object]]


async def purge_expired(settings: Settings) -> None:
    """Trash past TRASH_RETENTION_DAYS and Idempotency-Keys past IDEMPOTENCY_KEY_HOURS, deleted for good."""
    trash = await purge_expired_trash(
        retention=timedelta(days=settings.trash_retention_days), batch_size=settings.purge_batch_size
    )
    keys = await purge_expired_keys(batch_size=settings.purge_batch_size)
    if trash or keys:
        logger.info("purged %d expired trashed notes and %d expired idempotency keys", len(trash), keys)


def periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    return [PeriodicTask("purge", settings.purge_interval_seconds, lambda: purge_expired(settings))]


async def _repeat(task: PeriodicTask) -> None:
    while True:
        try:
            await task.run()
        except DATABASE_UNAVAILABLE as exc:
            logger.warning("periodic task %s: database unavailable: %r", task.name, exc)
        except Exception:
            # A bug in one run must not end the loop for the life of the process: logged with its
            # traceback, and the next run tries again.
            logger.exception("periodic task %s failed", task.name)
        await asyncio.sleep(task.interval)


@asynccontextmanager
async def running(tasks: list[PeriodicTask]) -> AsyncIterator[None]:
    """Run `tasks` in the background while the block runs; cancel them, and wait for them, at its end."""
    started = [asyncio.create_task(_repeat(task), name=f"notes_app {task.name}") for task in tasks]
    try:
        yield
    finally:
        for task in started:
            task.cancel()
        await asyncio.gather(*started, return_exceptions=True)
