"""Sessions: a login, its rotating single-use refresh tokens, and ending it. Free of HTTP.

A refresh token is 256 random bits; only its SHA-256 is stored. Refreshing spends it and hands out
the next one of the same session. Presenting a spent one again means two parties hold the session's
tokens (one of them stole it), so the whole session ends, for both (RFC 9700 4.14.2).
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.users.credentials import revoked, token_hash
from notes_app.users.models import RefreshToken, UserSession
from notes_app.users.tokens import InvalidCredentials

# What is kept of a client's User-Agent header: enough to tell one's devices apart.
USER_AGENT_LENGTH = 255


class InvalidRefreshToken(InvalidCredentials):
    def __init__(self) -> None:
        # One body for malformed, unknown, spent, expired and foreign tokens: the answer tells an
        # attacker nothing about which one they hold.
        super().__init__("the refresh token is not valid: sign in again")


@dataclass(frozen=True)
class SessionGrant:
    """A session and the refresh token just issued for it (shown to the client once)."""

    session: UserSession
    refresh_token: str


def _new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


async def start_session(*, user_id: int, user_agent: str | None, lifetime: timedelta) -> SessionGrant:
    now = datetime.now(UTC)
    refresh_token = _new_refresh_token()
    try:
        async with in_transaction() as connection:
            # The account's sessions that ran out are swept here, where the account is active anyway.
            await UserSession.filter(user_id=user_id, expires_at__lte=now).using_db(connection).delete()
            session = await UserSession.create(
                user_id=user_id,
                created_at=now,
                last_used_at=now,
                expires_at=now + lifetime,
                user_agent=user_agent[:USER_AGENT_LENGTH] if user_agent else None,
                using_db=connection,
            )
            await RefreshToken.create(
                session_id=session.id, token_hash=token_hash(refresh_token), created_at=now, using_db=connection
            )
    except IntegrityError:
        raise revoked() from None  # the account was deleted while signing in
    return SessionGrant(session=session, refresh_token=refresh_token)


async def refresh_session(*, refresh_token: str, lifetime: timedelta) -> SessionGrant:
    """Spend `refresh_token` and give its session the next one. A spent or expired token ends its
    session; an unknown one changes nothing. Each is 401 with the same body."""
    now = datetime.now(UTC)
    digest = token_hash(refresh_token)
    successor = _new_refresh_token()
    granted: UserSession | None = None
    async with in_transaction() as connection:
        presented = await RefreshToken.filter(token_hash=digest).using_db(connection).select_related("session").first()
        if presented is not None:
            session = presented.session
            # The conditional UPDATE is the arbiter: of two requests presenting the same token at once,
            # exactly one spends it (PostgreSQL re-checks `spent` after the first one's row lock); the
            # other is a reuse.
            spent_now = (
                not presented.spent
                and session.expires_at > now
                and await RefreshToken.filter(id=presented.id, spent=False).using_db(connection).update(spent=True)
            )
            if spent_now:
                await RefreshToken.create(
                    session_id=session.id, token_hash=token_hash(successor), created_at=now, using_db=connection
                )
                session.last_used_at = now
                session.expires_at = now + lifetime
                await session.save(using_db=connection, update_fields=["last_used_at", "expires_at"])
                granted = session
            else:
                # Committed, not rolled back with the 401: the session must end.
                await UserSession.filter(id=session.id).using_db(connection).delete()
    if granted is None:
        raise InvalidRefreshToken()
    return SessionGrant(session=granted, refresh_token=successor)


async def end_session(*, user_id: int, session_id: int) -> bool:
    """End one of the user's sessions; False if the user has no such session."""
    return bool(await UserSession.filter(id=session_id, user_id=user_id).delete())


async def end_other_sessions(*, user_id: int, keep_session_id: int) -> None:
    await UserSession.filter(user_id=user_id).exclude(id=keep_session_id).delete()


async def list_sessions(*, user_id: int) -> list[UserSession]:
    now = datetime.now(UTC)
    return await UserSession.filter(user_id=user_id, expires_at__gt=now).order_by("-last_used_at", "-id")


class SessionNotFound(ProblemError):
    status = 404

    def __init__(self, session_id: int) -> None:
        super().__init__(f"session {session_id} does not exist")
