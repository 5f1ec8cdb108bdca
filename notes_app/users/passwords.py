"""Argon2 password hashing, off the event loop.

Argon2 costs tens of milliseconds of CPU by design; run inline it would stall every other request. It
runs in a small pool of its own threads instead: pwdlib's Argon2 (argon2-cffi) releases the GIL, so they
really run beside the event loop.
"""

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# Argon2id with OWASP's first configuration (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1), which it
# rates as strong as pwdlib's recommended 64 MiB, t=3, p=4, while a hash holds 19 MiB instead of 64: a
# worker's peak memory is its idle size plus one such block per hash running (bench/RESULTS.md).
# Settings PASSWORD_HASH_MEMORY_KIB and PASSWORD_HASH_TIME_COST change it (configure_password_hashing).
DEFAULT_MEMORY_KIB = 19_456
DEFAULT_TIME_COST = 2


def _argon2(*, memory_kib: int, time_cost: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1),))


_hasher = _argon2(memory_kib=DEFAULT_MEMORY_KIB, time_cost=DEFAULT_TIME_COST)


def configure_password_hashing(*, memory_kib: int, time_cost: int) -> None:
    """The Argon2 cost of new hashes, for the whole process: set once, when the app is created (two apps
    in one process with different costs would rehash each other's logins). Hashes made with another cost
    still verify (a hash carries its parameters) and are replaced at their account's next login
    (`needs_rehash`). Until then a wrong password for such an account costs that hash's time, not the
    unknown-user check's: a timing difference that tells only what sign-up's 409 tells anyone already,
    that the username exists."""
    global _hasher
    _hasher = _argon2(memory_kib=memory_kib, time_cost=time_cost)
    _unknown_user_hash.cache_clear()  # an unknown username must cost what a real check costs


# Hashes run one fewer at a time than there are cores (at least one), so a burst of logins always
# leaves the event loop a core; more logins queue here. Each hash also holds its memory cost: forty at
# once (AnyIO's default thread count) would take forty times that.
_hashing_threads = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) - 1), thread_name_prefix="argon2")


@cache
def _unknown_user_hash() -> str:
    # A real hash of a password nobody knows: checking a login for a missing or password-less account
    # against it costs what a real check costs, so response time does not tell which usernames exist.
    return _hasher.hash(secrets.token_urlsafe(32))


def _verify(password: str, password_hash: str | None) -> bool:
    usable = password_hash if password_hash and password_hash.startswith("$argon2") else None
    # As bytes, with lone surrogates (legal in a JSON string) passed through: such a password cannot be
    # valid UTF-8, so it matches no stored password (stored ones are), instead of failing to encode.
    candidate = password.encode("utf-8", "surrogatepass")
    matches = _hasher.verify(candidate, usable or _unknown_user_hash())
    return matches and usable is not None


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_hashing_threads, _hasher.hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash that just verified was made with other Argon2 parameters than today's."""
    return _hasher.current_hasher.check_needs_rehash(password_hash)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether `password` matches; `None` (no such account) costs the same and is always False."""
    return await asyncio.get_running_loop().run_in_executor(_hashing_threads, _verify, password, password_hash)
