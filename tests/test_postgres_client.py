"""The PostgreSQL pool as the app uses it: waiting for a connection is first come, first served, and a
request that stops waiting (timed out, cancelled) gives its turn back."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from notes_app.config import Settings
from notes_app.postgres_client import FairPool, SessionlessConnection
from tests.conftest import asyncpg_dsn


@pytest.fixture
async def one_connection(settings: Settings, dialect: str) -> AsyncIterator[asyncpg.Pool]:
    if dialect != "postgres":
        pytest.skip("SQLite has one connection and no pool")
    pool = await asyncpg.create_pool(
        asyncpg_dsn(settings.database_url), min_size=1, max_size=1, connection_class=SessionlessConnection
    )
    yield pool
    await pool.close()


async def first_served_after_release(pool: FairPool | asyncpg.Pool, *, newcomer_delay: int) -> str:
    """Holds the only connection while one request waits for it; releases it, and lets a newcomer ask
    for it `newcomer_delay` event-loop steps later. Which of the two gets it first?"""
    served: list[str] = []

    async def request(name: str) -> None:
        connection = await pool.acquire()
        served.append(name)
        await pool.release(connection)

    held = await pool.acquire()
    waiter = asyncio.create_task(request("waiter"))
    for _ in range(3):
        await asyncio.sleep(0)  # the waiter is queued now
    release = asyncio.create_task(pool.release(held))
    for _ in range(newcomer_delay):
        await asyncio.sleep(0)
    newcomer = asyncio.create_task(request("newcomer"))
    await asyncio.gather(waiter, release, newcomer)
    return served[0]


async def test_a_waiting_request_gets_the_released_connection_before_a_newcomer(one_connection: asyncpg.Pool) -> None:
    pool = FairPool(one_connection, size=1, acquire_timeout=10)

    # Whenever the newcomer arrives during the release, the request that was already waiting goes first.
    firsts = [await first_served_after_release(pool, newcomer_delay=delay) for delay in range(6)]

    assert firsts == ["waiter"] * 6


async def test_asyncpgs_own_pool_lets_a_newcomer_overtake_a_waiter(one_connection: asyncpg.Pool) -> None:
    # Why FairPool exists: if asyncpg ever serves its waiters in order, this fails and FairPool can go.
    firsts = [await first_served_after_release(one_connection, newcomer_delay=delay) for delay in range(6)]

    assert "newcomer" in firsts


async def test_a_request_that_waits_past_the_timeout_gives_up_its_place(one_connection: asyncpg.Pool) -> None:
    pool = FairPool(one_connection, size=1, acquire_timeout=0.01)
    held = await pool.acquire()

    with pytest.raises(TimeoutError):
        await pool.acquire()

    await pool.release(held)
    # The timed-out request left no claim behind: the connection is free for the next one.
    connection = await asyncio.wait_for(pool.acquire(), timeout=10)
    await pool.release(connection)


class HeldPool:
    """Stands for asyncpg's pool: acquire() waits inside until `open` is set, so a request can be held
    in it (its turn taken, no connection yet). Needs no database."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()

    async def acquire(self) -> object:
        self.entered.set()
        await self.open.wait()
        return object()

    async def release(self, connection: object) -> None:
        pass


def fair(pool: HeldPool, *, acquire_timeout: float) -> FairPool:
    return FairPool(pool, size=1, acquire_timeout=acquire_timeout)  # type: ignore[arg-type]


async def assert_turn_free(pool: FairPool, held: HeldPool) -> None:
    # With the pool open, a free turn is taken within a few event-loop steps; a turn never given back
    # leaves this request waiting.
    held.open.set()
    request = asyncio.create_task(pool.acquire())
    for _ in range(3):
        await asyncio.sleep(0)
    if not request.done():
        request.cancel()
        pytest.fail("the turn was not given back")
    await pool.release(request.result())


async def test_a_request_cancelled_inside_the_pools_acquire_gives_its_turn_back() -> None:
    held = HeldPool()
    pool = fair(held, acquire_timeout=3600)
    waiting = asyncio.create_task(pool.acquire())
    await held.entered.wait()

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting

    await assert_turn_free(pool, held)


async def test_a_request_timed_out_inside_the_pools_acquire_gives_its_turn_back() -> None:
    held = HeldPool()
    pool = fair(held, acquire_timeout=0.001)

    with pytest.raises(TimeoutError):
        await pool.acquire()

    assert held.entered.is_set()  # it timed out holding its turn, inside the pool's acquire
    await assert_turn_free(pool, held)


async def test_a_request_cancelled_while_waiting_for_its_turn_leaves_the_turn_to_others() -> None:
    held = HeldPool()
    held.open.set()
    pool = fair(held, acquire_timeout=3600)
    first = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    for _ in range(3):
        await asyncio.sleep(0)  # queued for the turn now
    assert not waiting.done()

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await pool.release(first)

    await assert_turn_free(pool, held)


async def test_a_connection_released_twice_is_an_error_not_a_wider_pool() -> None:
    held = HeldPool()
    held.open.set()
    pool = fair(held, acquire_timeout=3600)
    connection = await pool.acquire()
    await pool.release(connection)

    with pytest.raises(ValueError, match="released too many times"):
        await pool.release(connection)
