from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from notes_app.users.login_limit import LoginLimit
from notes_app.users.models import User
from notes_app.users.tokens import InvalidCredentials, TokenIssuer

# auto_error=False: a missing token is our own 401 problem, not FastAPI's plain one.
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def _token_issuer(request: Request) -> TokenIssuer:
    issuer: TokenIssuer = request.app.state.token_issuer
    return issuer


def _login_limit(request: Request) -> LoginLimit:
    limit: LoginLimit = request.app.state.login_limit
    return limit


Tokens = Annotated[TokenIssuer, Depends(_token_issuer)]
LoginLimitDep = Annotated[LoginLimit, Depends(_login_limit)]


async def _current_user(token: Annotated[str | None, Depends(_bearer)], tokens: Tokens) -> User:
    if not token:  # no Authorization header, another scheme, or "Bearer" with nothing after it
        raise InvalidCredentials("send an access token: Authorization: Bearer <token>", token_sent=False)
    user = await User.get_or_none(id=tokens.user_id(token))
    if user is None:
        # A validly signed token whose account is gone: revoked, not merely unknown.
        raise InvalidCredentials("the access token's account no longer exists")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
