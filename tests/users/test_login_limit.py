"""Failed logins for one username are limited: 10 a minute, then 429 with Retry-After."""

import asyncio

import httpx
import pytest

from notes_app.users import passwords
from tests.conftest import Account, assert_problem
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
