"""Argon2 password hashing, off the event loop.

Argon2 costs about 100 ms of CPU by design; run inline it would stall every other request. It runs
in a small pool of its own threads instead: pwdlib's Argon2 (argon2-cffi) releases the GIL, so they
really run beside the event loop.
"""

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()


# Hashes run one fewer at a time than there are cores (at least one), so a burst of logins always
# leaves the event loop a core; more logins queue here. Each hash also holds 64 MiB: forty at once
# (AnyIO's default thread count) would take 2.5 GiB.
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


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether `password` matches; `None` (no such account) costs the same and is always False."""
    return await asyncio.get_running_loop().run_in_executor(_hashing_threads, _verify, password, password_hash)
