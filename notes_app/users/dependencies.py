from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from notes_app.users.login_limit import LoginLimit
from notes_app.users.models import User
from notes_app.users.service import account_gone
from notes_app.users.tokens import InvalidCredentials, TokenIssuer

# auto_error=False: a missing token is our own 401 problem, not FastAPI's plain one.
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


# async def, like every dependency here: FastAPI runs a plain def in its threadpool, which costs
# more than these do.
async def _token_issuer(request: Request) -> TokenIssuer:
    issuer: TokenIssuer = request.app.state.token_issuer
    return issuer


async def _login_limit(request: Request) -> LoginLimit:
    limit: LoginLimit = request.app.state.login_limit
    return limit


Tokens = Annotated[TokenIssuer, Depends(_token_issuer)]
LoginLimitDep = Annotated[LoginLimit, Depends(_login_limit)]


@dataclass(frozen=True)
class Caller:
    """The account a valid access token names.

    The token proves who is calling, without a query. That the account still exists is proven by the
    query that serves the request: a note is found only with its owner's id, and notes go with their
    account (ON DELETE CASCADE), so finding one proves the owner exists, and inserting one for a missing
    account fails its foreign key. Only where that proof is missing (nothing found) does
    `account_gone` ask, to answer 401 rather than 404.
    """

    id: int


async def _caller(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Caller:
    if not token:  # no Authorization header, another scheme, or "Bearer" with nothing after it
        raise InvalidCredentials("send an access token: Authorization: Bearer <token>", token_sent=False)
    # The issuer straight from app.state, not through the Tokens dependency: this runs on every
    # request, and each dependency costs FastAPI a little solving.
    tokens: TokenIssuer = request.app.state.token_issuer
    return Caller(id=tokens.user_id(token))


CurrentCaller = Annotated[Caller, Depends(_caller)]


async def _current_user(caller: CurrentCaller) -> User:
    user = await User.get_or_none(id=caller.id)
    if user is None:
        raise account_gone()
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
