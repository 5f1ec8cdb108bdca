"""Personal access tokens: long-lived bearer tokens with scopes, for scripts and editor plugins that
must not hold the password. Free of HTTP.

A token is `nat_` and 256 random bits; only its SHA-256 is stored, so it is shown once, at creation.
Revoking one deletes its row, which every request checks (notes_app/users/credentials.py).
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.users.credentials import PERSONAL_TOKEN_PREFIX, revoked, token_hash
from notes_app.users.models import PersonalAccessToken, User

MAX_PERSONAL_TOKENS = 50
READ_SCOPE = "notes:read"
WRITE_SCOPE = "notes:write"


class TooManyPersonalTokens(ProblemError):
    status = 409

    def __init__(self) -> None:
        super().__init__(f"an account may hold at most {MAX_PERSONAL_TOKENS} personal access tokens: revoke one first")


class PersonalTokenNotFound(ProblemError):
    status = 404

    def __init__(self, token_id: int) -> None:
        super().__init__(f"personal access token {token_id} does not exist")


@dataclass(frozen=True)
class NewPersonalToken:
    record: PersonalAccessToken
    token: str  # shown once


def scopes_of(record: PersonalAccessToken) -> list[str]:
    return [READ_SCOPE, WRITE_SCOPE] if record.can_write else [READ_SCOPE]


def _unexpired(now: datetime) -> Q:
    # An expired token works no more and counts no more; it is not listed either.
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


async def create_personal_token(
    *, user_id: int, name: str, can_write: bool, expires_in_days: int | None
) -> NewPersonalToken:
    now = datetime.now(UTC)
    token = PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with in_transaction() as connection:
        # The account's row, locked (PostgreSQL; SQLite runs write transactions one at a time): two
        # concurrent creations cannot both see 49 tokens and make 51. Finding it also proves the account.
        if not await User.filter(id=user_id).using_db(connection).select_for_update().exists():
            raise revoked()
        live = PersonalAccessToken.filter(_unexpired(now), user_id=user_id).using_db(connection)
        if await live.count() >= MAX_PERSONAL_TOKENS:
            raise TooManyPersonalTokens()
        record = await PersonalAccessToken.create(
            user_id=user_id,
            name=name,
            token_hash=token_hash(token),
            can_write=can_write,
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days is not None else None,
            using_db=connection,
        )
    return NewPersonalToken(record=record, token=token)


async def list_personal_tokens(*, user_id: int) -> list[PersonalAccessToken]:
    now = datetime.now(UTC)
    return await PersonalAccessToken.filter(_unexpired(now), user_id=user_id).order_by("-created_at", "-id")


async def revoke_personal_token(*, user_id: int, token_id: int) -> None:
    if not await PersonalAccessToken.filter(id=token_id, user_id=user_id).delete():
        raise PersonalTokenNotFound(token_id)
