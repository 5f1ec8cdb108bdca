"""Who is calling, and what proves that their credential still works.

A bearer credential is either a session's access token (a JWT naming the user and the session) or a
personal access token (`nat_...`). What is remembered between requests is only what can never change:
that a JWT's signature is good (notes_app/users/tokens.py), and whose a personal access token is, with
which scopes and until when. Revocation deletes a row (the session, the token, or the account with all
of its sessions and tokens), so "still works" is "its row is there", and every request proves that:
inside the statement it runs anyway where the route can (`Caller.alive()`, e.g. GET /notes/{id} and
GET /notes), or with one small query otherwise (`ensure_alive`). Nothing remembered can keep a revoked
credential working.
"""

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import LiteralString

from tortoise.expressions import Q

from notes_app.errors import ProblemError
from notes_app.sql import Sql
from notes_app.users.models import PersonalAccessToken, UserSession
from notes_app.users.tokens import InvalidCredentials, TokenIssuer

PERSONAL_TOKEN_PREFIX = "nat_"
# `nat_` and 256 random bits as unpadded base64url (secrets.token_urlsafe(32)): 43 characters.
PERSONAL_TOKEN_LENGTH = len(PERSONAL_TOKEN_PREFIX) + 43
# last_used_at is written at most this often per session or token (per process): a request that only
# reads must not become a write, and "last used" to the minute is all anyone needs.
LAST_USED_RESOLUTION_SECONDS = 60.0
_REMEMBERED = 4096


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a refresh token or personal access token: all that is stored of either."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class InsufficientScope(ProblemError):
    """403: the credential is good but may not do this (RFC 6750 3.1)."""

    status = 403

    def __init__(self, detail: str, *, scope: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'})


# Caller.alive()'s conditions, a `{}` for each value: the session's id and its user's, or the token's hash.
SESSION_ALIVE: LiteralString = (
    'EXISTS (SELECT 1 FROM "user_session" WHERE "user_session"."id" = {} AND "user_session"."user_id" = {})'
)
TOKEN_ALIVE: LiteralString = (
    'EXISTS (SELECT 1 FROM "personal_access_token" WHERE "personal_access_token"."token_hash" = {})'
)


@dataclass(frozen=True, slots=True)
class Caller:
    """The account a verified credential names, and that credential. Its liveness is not proven yet:
    the dependency that hands it out says who proves it (notes_app/users/dependencies.py)."""

    id: int
    # The session an access token names; None for a personal access token.
    session_id: int | None
    # The SHA-256 of a personal access token; None for an access token.
    personal_token_hash: str | None
    can_write: bool

    def alive(self) -> Q:
        """A condition true only while the credential works, for the WHERE clause of the statement the
        request runs anyway. The session and token rows go with their account (ON DELETE CASCADE), so
        it also proves that the account exists."""
        if self.session_id is not None:
            return Sql(SESSION_ALIVE, self.session_id, self.id)
        return Sql(TOKEN_ALIVE, self.personal_token_hash)


def revoked() -> InvalidCredentials:
    # A credential that was good and is no longer: its session ended, the token was revoked, or the
    # account was deleted. One answer for all of them.
    return InvalidCredentials("the credentials have been revoked: sign in again")


async def ensure_alive(caller: Caller) -> None:
    """401 unless the caller's session or token still exists: one indexed lookup."""
    if caller.session_id is not None:
        alive = await UserSession.exists(id=caller.session_id, user_id=caller.id)
    else:
        alive = await PersonalAccessToken.exists(token_hash=caller.personal_token_hash)
    if not alive:
        raise revoked()


@dataclass(frozen=True, slots=True)
class _PersonalToken:
    """What never changes about a personal access token while it exists."""

    user_id: int
    can_write: bool
    expires_at: float | None  # a POSIX timestamp


class CredentialReader:
    """Turns a bearer credential into a Caller. One per app (app.state.credentials)."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer
        self._personal_tokens: OrderedDict[str, _PersonalToken] = OrderedDict()
        self._last_written: dict[tuple[str, int | str], float] = {}

    async def caller(self, token: str) -> Caller:
        if not token.startswith(PERSONAL_TOKEN_PREFIX):
            user_id, session_id = self.issuer.subject(token)
            return Caller(id=user_id, session_id=session_id, personal_token_hash=None, can_write=True)
        # Any other length cannot be a token this service issued: refused without a query.
        if len(token) != PERSONAL_TOKEN_LENGTH:
            raise InvalidCredentials("the personal access token is not valid")
        digest = token_hash(token)
        facts = await self._personal_token(digest)
        if facts.expires_at is not None and facts.expires_at <= time.time():
            raise InvalidCredentials("the personal access token has expired")
        return Caller(id=facts.user_id, session_id=None, personal_token_hash=digest, can_write=facts.can_write)

    async def _personal_token(self, digest: str) -> _PersonalToken:
        facts = self._personal_tokens.get(digest)
        if facts is not None:
            self._personal_tokens.move_to_end(digest)
            return facts
        row = await PersonalAccessToken.filter(token_hash=digest).first().values("user_id", "can_write", "expires_at")
        if row is None:
            raise InvalidCredentials("the personal access token is not valid")
        expires_at: datetime | None = row["expires_at"]
        facts = _PersonalToken(
            user_id=row["user_id"],
            can_write=row["can_write"],
            expires_at=expires_at.timestamp() if expires_at is not None else None,
        )
        # Only tokens that existed are remembered, so a flood of made-up tokens cannot evict real ones
        # faster than real ones are used; a revoked one stays here harmlessly (its row is gone).
        self._personal_tokens[digest] = facts
        if len(self._personal_tokens) > _REMEMBERED:
            self._personal_tokens.popitem(last=False)
        return facts

    async def note_use(self, caller: Caller) -> None:
        """Moves last_used_at, at most once a minute per session or token in this process."""
        key: tuple[str, int | str]
        key = (
            ("session", caller.session_id)
            if caller.session_id is not None
            else ("token", caller.personal_token_hash or "")
        )
        now = time.monotonic()
        last = self._last_written.get(key)
        if last is not None and now - last < LAST_USED_RESOLUTION_SECONDS:
            return
        if len(self._last_written) >= _REMEMBERED:
            self._last_written.clear()  # at worst, one more write per credential
        self._last_written[key] = now
        moment = datetime.now(UTC)
        if caller.session_id is not None:
            await UserSession.filter(id=caller.session_id).update(last_used_at=moment)
        else:
            await PersonalAccessToken.filter(token_hash=caller.personal_token_hash).update(last_used_at=moment)
