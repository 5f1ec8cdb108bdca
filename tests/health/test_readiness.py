"""The readiness probe answers within its bound whatever the ping does, without waiting for it to end.

Proved with pings held on Events, not with timings: tests/test_outage.py shows the bound against a
real silent PostgreSQL.
"""

import asyncio

import pytest

from notes_app.health.readiness import DatabaseProbe

# Short, so the tests are quick; nothing below depends on how long the machine takes.
BOUND = 0.05


async def test_a_ping_that_never_ends_even_when_cancelled_is_unavailable_and_left_running() -> None:
    # Like asyncpg cleaning a cancelled query up against a silent server: cancellation does not end it.
    release = asyncio.Event()

    async def stubborn_ping() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue

    probe = DatabaseProbe(stubborn_ping, timeout=BOUND, unavailable=(ConnectionError,))

    assert await probe.database_answers() is False
    assert probe._running is not None
    assert not probe._running.done()  # answered without waiting for the ping
    release.set()
    await probe._running


async def test_probes_while_a_ping_runs_share_it() -> None:
    started = 0
    release = asyncio.Event()

    async def ping() -> None:
        nonlocal started
        started += 1
        await release.wait()

    probe = DatabaseProbe(ping, timeout=BOUND, unavailable=(ConnectionError,))

    assert await asyncio.gather(*(probe.database_answers() for _ in range(5))) == [False] * 5
    assert started == 1
    release.set()
    assert await probe.database_answers() is True  # the running ping answered: no second one needed
    assert started == 1
    assert await probe.database_answers() is True
    assert started == 2  # a new probe after it ended pings again


async def test_an_outage_error_is_unavailable_and_anything_else_is_raised() -> None:
    async def refused() -> None:
        raise ConnectionRefusedError

    async def broken() -> None:
        raise RuntimeError("a bug, not an outage")

    assert await DatabaseProbe(refused, timeout=1, unavailable=(ConnectionError,)).database_answers() is False
    with pytest.raises(RuntimeError):
        await DatabaseProbe(broken, timeout=1, unavailable=(ConnectionError,)).database_answers()
