"""Password checks cost the same for every username, and never run on the event loop."""

import asyncio
import os
import threading
from collections.abc import Iterator

import httpx
import pytest
from pwdlib import PasswordHash

from notes_app.users import passwords
from notes_app.users.models import User
from tests.conftest import Account, create_note
from tests.users.test_router import PASSWORD, log_in, sign_up


async def test_an_unknown_username_costs_one_full_argon2_check(
    anonymous: httpx.AsyncClient, alice: Account, verifications: list[str | None]
) -> None:
    await log_in(anonymous, alice.username, "wrong guess")
    await log_in(anonymous, "nobody-at-all", "wrong guess")

    assert len(verifications) == 2
    assert verifications[1] is None  # and _verify then checks against a real Argon2 hash


def test_checking_a_missing_account_runs_argon2_against_a_real_hash() -> None:
    # Cost parity itself is shown by the verification count in the test above.
    assert passwords._verify("anything", None) is False
    assert passwords._verify("anything", "!") is False  # the password-less "legacy" account
    assert passwords._unknown_user_hash().startswith("$argon2id$")


class HeldHashing:
    """Password checks that wait inside their worker thread until the test releases them."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)  # one release per check that has started
        self.lock = threading.Lock()
        self.threads: set[int] = set()
        self.inside = 0
        self.most_inside = 0

    async def wait_until_entered(self, count: int = 1) -> None:
        for _ in range(count):
            assert await asyncio.to_thread(self.entered.acquire, timeout=60), "no password check started"


@pytest.fixture
def held_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldHashing]:
    held = HeldHashing()
    original = passwords._verify

    def verify_when_released(password: str, password_hash: str | None) -> bool:
        with held.lock:
            held.threads.add(threading.get_ident())
            held.inside += 1
            held.most_inside = max(held.most_inside, held.inside)
        held.entered.release()
        # Bounded, so a broken test fails instead of hanging the suite.
        released = held.release.wait(timeout=60)
        with held.lock:
            held.inside -= 1
        assert released, "the test never released the hash"
        return original(password, password_hash)

    monkeypatch.setattr(passwords, "_verify", verify_when_released)
    yield held
    held.release.set()


async def test_requests_are_served_while_a_password_hash_runs_and_hashes_never_run_on_the_event_loop(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, alice: Account, held_hashing: HeldHashing
) -> None:
    note = await create_note(client)
    login = asyncio.create_task(log_in(anonymous, alice.username, alice.password))
    await held_hashing.wait_until_entered()

    # The hash is held inside its worker thread: were it on the event loop, nothing below could run.
    assert (await anonymous.get("/health/live")).status_code == 200
    assert (await client.get(f"/notes/{note['id']}")).status_code == 200
    assert (await client.get("/notes")).status_code == 200
    assert not login.done()

    held_hashing.release.set()
    assert (await login).status_code == 200
    assert threading.get_ident() not in held_hashing.threads
    assert all(
        thread.name.startswith("argon2") for thread in threading.enumerate() if thread.ident in held_hashing.threads
    )


async def test_a_burst_of_logins_hashes_at_most_one_fewer_than_the_cores_at_once(
    anonymous: httpx.AsyncClient, alice: Account, held_hashing: HeldHashing
) -> None:
    threads = passwords._hashing_threads._max_workers
    assert threads == max(1, (os.cpu_count() or 1) - 1)
    logins = [asyncio.create_task(log_in(anonymous, alice.username, alice.password)) for _ in range(threads + 3)]
    await held_hashing.wait_until_entered(threads)

    # Every hashing thread is held; the other logins wait their turn without a thread of their own.
    assert (await anonymous.get("/health/live")).status_code == 200
    assert held_hashing.inside == threads
    held_hashing.release.set()

    assert [(await login).status_code for login in logins] == [200] * (threads + 3)
    assert held_hashing.most_inside == threads


def test_new_hashes_use_owasps_argon2id_parameters() -> None:
    # OWASP's m=19 MiB, t=2, p=1: what a login holds in memory while it hashes (README, "Memory").
    assert passwords._hasher.hash("a password").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_the_settings_set_the_cost_of_new_hashes_and_of_the_unknown_user_check() -> None:
    passwords.configure_password_hashing(memory_kib=7_168, time_cost=5)
    try:
        assert passwords._hasher.hash("a password").startswith("$argon2id$v=19$m=7168,t=5,p=1$")
        assert passwords._unknown_user_hash().startswith("$argon2id$v=19$m=7168,t=5,p=1$")
    finally:
        passwords.configure_password_hashing(
            memory_kib=passwords.DEFAULT_MEMORY_KIB, time_cost=passwords.DEFAULT_TIME_COST
        )
    assert passwords._unknown_user_hash().startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_a_login_replaces_a_hash_made_with_other_parameters_and_keeps_working(
    anonymous: httpx.AsyncClient,
) -> None:
    assert (await sign_up(anonymous, "dora")).status_code == 201
    # A hash as notes_app made them before (pwdlib's recommended 64 MiB, t=3, p=4).
    old_hash = PasswordHash.recommended().hash(PASSWORD)
    await User.filter(username="dora").update(password_hash=old_hash)

    assert (await log_in(anonymous, "dora", "wrong guess")).status_code == 401
    assert (await User.get(username="dora")).password_hash == old_hash  # a failed login rehashes nothing

    assert (await log_in(anonymous, "dora")).status_code == 200
    new_hash = (await User.get(username="dora")).password_hash
    assert new_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert (await log_in(anonymous, "dora")).status_code == 200  # the new hash verifies the same password
    assert (await User.get(username="dora")).password_hash == new_hash  # and is not replaced again
