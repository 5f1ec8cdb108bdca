"""Periodic tasks (notes_app/background.py): started with the app, repeated, survive failures, stopped with it."""

import asyncio

from notes_app.background import PeriodicTask, periodic_tasks, running
from notes_app.config import Settings


async def test_a_task_runs_again_after_each_interval_until_the_block_ends() -> None:
    runs = 0
    third = asyncio.Event()

    async def count() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            third.set()

    async with running([PeriodicTask("count", 0, count)]):
        await third.wait()
    stopped_at = runs
    await asyncio.sleep(0)  # a cancelled task that still ran would count again here

    assert stopped_at >= 3
    assert runs == stopped_at
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "notes_app count"]


async def test_a_failing_run_does_not_end_the_task() -> None:
    attempts = 0
    recovered = asyncio.Event()

    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("the first run fails")
        recovered.set()

    async with running([PeriodicTask("flaky", 0, flaky)]):
        await recovered.wait()

    assert attempts >= 2


async def test_the_app_purges_every_purge_interval() -> None:
    settings = Settings(purge_interval_seconds=42)

    [task] = periodic_tasks(settings)

    assert (task.name, task.interval) == ("purge", 42)
