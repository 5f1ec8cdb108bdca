"""Accounts and logins, free of HTTP."""

from tortoise.exceptions import IntegrityError

from notes_app.errors import ProblemError
from notes_app.users.login_limit import LoginLimit
from notes_app.users.models import MAX_USERNAME_LENGTH, User
from notes_app.users.passwords import hash_password, verify_password
from notes_app.users.schemas import UserCreate, could_be_username
from notes_app.users.tokens import InvalidCredentials


class UsernameTaken(ProblemError):
    status = 409

    def __init__(self, username: str) -> None:
        super().__init__(f"the username {username!r} is taken")


async def create_user(*, data: UserCreate) -> User:
    password_hash = await hash_password(data.password)
    try:
        # No existence check first: under concurrent sign-ups only the unique constraint is reliable.
        return await User.create(username=data.username, password_hash=password_hash)
    except IntegrityError:
        raise UsernameTaken(data.username) from None


def account_gone() -> InvalidCredentials:
    # A validly signed token whose account no longer exists: revoked, not merely unknown.
    return InvalidCredentials("the access token's account no longer exists")


async def ensure_account_exists(user_id: int) -> None:
    """401 unless the account exists: for a request whose own query could not tell (it found nothing)."""
    if not await User.exists(id=user_id):
        raise account_gone()


async def authenticate(*, username: str, password: str, login_limit: LoginLimit) -> User:
    """The user these credentials belong to. Unknown usernames and wrong passwords fail alike, in
    answer and in time. Every attempt counts against the username's login limit until one succeeds."""
    # A username no account can have (5,000 characters, a NUL) is not looked up: Tortoise would refuse
    # to compare an overlong one with the column and PostgreSQL a NUL, both 500s. It gets the same
    # answer and the same Argon2 cost as any unknown username. Its attempts count under its first
    # characters, so a stream of huge usernames cannot fill the limiter's storage.
    can_exist = could_be_username(username)
    await login_limit.take_attempt(username if can_exist else username[: MAX_USERNAME_LENGTH + 1])
    user = await User.get_or_none(username=username) if can_exist else None
    if not await verify_password(password, user.password_hash if user else None) or user is None:
        raise InvalidCredentials("wrong username or password", token_sent=False)
    await login_limit.forgive(username)
    return user
