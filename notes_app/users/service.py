"""Accounts and logins, free of HTTP."""

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.users.credentials import revoked
from notes_app.users.login_limit import LoginLimit
from notes_app.users.models import MAX_USERNAME_LENGTH, PersonalAccessToken, User, UserSession
from notes_app.users.passwords import hash_password, needs_rehash, verify_password
from notes_app.users.schemas import UserCreate, could_be_username
from notes_app.users.tokens import InvalidCredentials


class UsernameTaken(ProblemError):
    status = 409

    def __init__(self, username: str) -> None:
        super().__init__(f"the username {username!r} is taken")


class WrongPassword(InvalidCredentials):
    def __init__(self) -> None:
        # The access token is fine; the password is not: the bare challenge, not invalid_token.
        super().__init__("the password is wrong", token_sent=False)


async def create_user(*, data: UserCreate) -> User:
    password_hash = await hash_password(data.password)
    try:
        # No existence check first: under concurrent sign-ups only the unique constraint is reliable.
        return await User.create(username=data.username, password_hash=password_hash)
    except IntegrityError:
        raise UsernameTaken(data.username) from None


def account_gone() -> InvalidCredentials:
    """The 401 for a write whose owner's foreign key failed: the account was deleted meanwhile."""
    return revoked()


async def ensure_account_exists(user_id: int) -> None:
    """401 unless the account exists: for code that holds only an owner id. A request's caller is
    proven alive (session or token, hence the account) by its caller dependency already."""
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
    if needs_rehash(user.password_hash):
        await _rehash(user=user, password=password)
    return user


async def _rehash(*, user: User, password: str) -> None:
    """Store the password hashed with today's Argon2 parameters: the only moment the password is at hand."""
    new_hash = await hash_password(password)
    # Conditional on the hash just checked: a password changed meanwhile is not overwritten.
    if await User.filter(id=user.id, password_hash=user.password_hash).update(password_hash=new_hash):
        user.password_hash = new_hash


async def _confirm_password(*, user_id: int, password: str, login_limit: LoginLimit) -> User:
    """The account, once `password` proves it is its owner asking. Counted like a login: a stolen
    access token must not become a way to guess the password at speed."""
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise revoked()
    await login_limit.take_attempt(user.username)
    if not await verify_password(password, user.password_hash):
        raise WrongPassword()
    await login_limit.forgive(user.username)
    return user


async def change_password(
    *, user_id: int, session_id: int, current_password: str, new_password: str, login_limit: LoginLimit
) -> None:
    """Set a new password; every other session ends and every personal access token is revoked, all
    in one transaction (whoever knew the old password keeps nothing)."""
    user = await _confirm_password(user_id=user_id, password=current_password, login_limit=login_limit)
    new_hash = await hash_password(new_password)
    async with in_transaction() as connection:
        # Conditional on the hash just checked: a concurrent change in between wins, and this one is refused.
        changed = await (
            User.filter(id=user.id, password_hash=user.password_hash)
            .using_db(connection)
            .update(password_hash=new_hash)
        )
        if changed:
            await UserSession.filter(user_id=user.id).exclude(id=session_id).using_db(connection).delete()
            await PersonalAccessToken.filter(user_id=user.id).using_db(connection).delete()
    if not changed:
        raise WrongPassword()


async def delete_account(*, user_id: int, password: str, login_limit: LoginLimit) -> None:
    """Delete the account and everything it owns: every table with rows of an account references it
    (or one of its notes) with ON DELETE CASCADE, so one DELETE takes it all, atomically. The username
    is free again as soon as this commits."""
    user = await _confirm_password(user_id=user_id, password=password, login_limit=login_limit)
    async with in_transaction() as connection:
        await User.filter(id=user.id).using_db(connection).delete()
