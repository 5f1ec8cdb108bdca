"""Failed logins for one username are limited: 10 a minute, then 429 with Retry-After."""

import asyncio
import socket
import uuid

import httpx
import pytest

from notes_app.config import Settings
from notes_app.users import passwords
from tests.conftest import Account, api_client, assert_problem
from tests.users.test_router import log_in


async def test_the_eleventh_failed_login_in_a_minute_is_429(anonymous: httpx.AsyncClient, alice: Account) -> None:
    for _ in range(10):
        assert_problem(await log_in(anonymous, alice.username, "wrong guess"), 401)

    limited = await log_in(anonymous, alice.username, "wrong guess")
    even_the_right_password = await log_in(anonymous, alice.username, alice.password)

    for response in (limited, even_the_right_password):
        assert_problem(response, 429)
        assert 1 <= int(response.headers["retry-after"]) <= 60


async def test_the_limit_is_per_username(anonymous: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    for _ in range(11):
        await log_in(anonymous, alice.username, "wrong guess")

    assert (await log_in(anonymous, bob.username, bob.password)).status_code == 200


async def test_successful_logins_do_not_count(anonymous: httpx.AsyncClient, alice: Account) -> None:
    for _ in range(12):
        assert (await log_in(anonymous, alice.username, alice.password)).status_code == 200


async def test_a_limited_username_costs_no_hashing(
    anonymous: httpx.AsyncClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(10):
        await log_in(anonymous, alice.username, "wrong guess")
    calls = 0
    original = passwords._verify

    def counting(password: str, password_hash: str | None) -> bool:
        nonlocal calls
        calls += 1
        return original(password, password_hash)

    monkeypatch.setattr(passwords, "_verify", counting)

    assert_problem(await log_in(anonymous, alice.username, "wrong guess"), 429)
    assert calls == 0


async def test_a_burst_of_concurrent_guesses_gets_only_ten_checked(
    anonymous: httpx.AsyncClient, alice: Account
) -> None:
    responses = await asyncio.gather(*(log_in(anonymous, alice.username, f"guess {i}") for i in range(30)))

    statuses = [response.status_code for response in responses]
    assert statuses.count(401) == 10
    assert statuses.count(429) == 20


# Shared through Redis (LOGIN_LIMIT_STORAGE=async+redis://...): several workers count one username's
# failures together. Two apps stand for two workers: each has its own LoginLimit and storage client.
REDIS_URL = "async+redis://127.0.0.1:6379"
# Nothing listens on port 1: a Redis that is down.
REDIS_DOWN_URL = "async+redis://127.0.0.1:1"


def redis_is_up() -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


def limited_to(settings: Settings, storage: str, failures: int = 3) -> Settings:
    # A wide storage bound: on a busy machine a first Redis call (connect, load the window's script) has
    # taken more than the default 2 s, a 503 that says nothing about counting. A refused Redis still fails at once.
    return settings.model_copy(
        update={
            "login_limit_storage": storage,
            "login_failures_per_minute": failures,
            "login_limit_timeout_seconds": 60,
        }
    )


async def test_workers_sharing_redis_count_failed_logins_together(settings: Settings) -> None:
    if not redis_is_up():
        pytest.skip("no Redis at 127.0.0.1:6379 to share the login limit through")
    shared = limited_to(settings, REDIS_URL)
    username = f"shared-{uuid.uuid4().hex[:12]}"  # this run's own key in a Redis others use too
    async with api_client(shared) as first_worker, api_client(shared) as second_worker:
        failures = [
            await log_in(first_worker, username, "wrong guess"),
            await log_in(second_worker, username, "wrong guess"),
            await log_in(first_worker, username, "wrong guess"),
        ]
        limited = await log_in(second_worker, username, "wrong guess")

    assert [response.status_code for response in failures] == [401, 401, 401]
    assert_problem(limited, 429)


async def test_workers_counting_in_memory_each_count_their_own(settings: Settings) -> None:
    # Why a deployment with several workers sets LOGIN_LIMIT_STORAGE: the default counts per process.
    alone = limited_to(settings, "async+memory://")
    async with api_client(alone) as first_worker, api_client(alone) as second_worker:
        for _ in range(3):
            await log_in(first_worker, "per-process", "wrong guess")
        elsewhere = await log_in(second_worker, "per-process", "wrong guess")

    assert elsewhere.status_code == 401


async def test_with_the_shared_limit_down_logins_are_503_and_notes_keep_working(
    settings: Settings, alice: Account
) -> None:
    down = limited_to(settings, REDIS_DOWN_URL)
    async with api_client(down) as anonymous_client, api_client(down, alice) as alice_client:
        login = await log_in(anonymous_client, alice.username, alice.password)
        created = await alice_client.post("/notes", json={"title": "Redis is down"})
        listed = await alice_client.get("/notes")

    problem = assert_problem(login, 503)
    assert "logins" in problem["detail"]
    assert int(login.headers["retry-after"]) >= 1
    assert created.status_code == 201
    assert [note["title"] for note in listed.json()["items"]] == ["Redis is down"]


async def test_a_shared_limit_that_never_answers_is_503_within_its_bound(settings: Settings) -> None:
    # A "Redis" that accepts connections and never answers: the login must give up after
    # LOGIN_LIMIT_TIMEOUT_SECONDS with 503, not wait for ever. No clock is asserted: without the bound
    # this request would never end (the test's own hang guard would fail it).
    connections: list[asyncio.StreamWriter] = []

    async def stay_silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    silent = await asyncio.start_server(stay_silent, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    hanging = limited_to(settings, f"async+redis://127.0.0.1:{port}").model_copy(
        update={"login_limit_timeout_seconds": 0.5}
    )
    try:
        async with api_client(hanging) as client:
            async with asyncio.timeout(120):  # only against a hang
                login = await log_in(client, "anyone", "any password")
    finally:
        for writer in connections:
            writer.close()
        silent.close()

    assert connections, "the login never reached the silent storage"
    assert_problem(login, 503)
    assert int(login.headers["retry-after"]) >= 1
