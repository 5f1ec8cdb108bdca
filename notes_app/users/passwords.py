"""Argon2 password hashing, off the event loop.

Argon2 costs about 100 ms of CPU by design; run inline it would stall every other request. pwdlib's
Argon2 (argon2-cffi) releases the GIL, so worker threads really run beside the event loop.
"""

import secrets
from functools import cache

from anyio import to_thread
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()


@cache
def _unknown_user_hash() -> str:
    # A real hash of a password nobody knows: checking a login for a missing or password-less account
    # against it costs what a real check costs, so response time does not tell which usernames exist.
    return _hasher.hash(secrets.token_urlsafe(32))


def _verify(password: str, password_hash: str | None) -> bool:
    usable = password_hash if password_hash and password_hash.startswith("$argon2") else None
    matches = _hasher.verify(password, usable or _unknown_user_hash())
    return matches and usable is not None


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(_hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether `password` matches; `None` (no such account) costs the same and is always False."""
    return await to_thread.run_sync(_verify, password, password_hash)
