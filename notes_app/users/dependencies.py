from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext
from fastapi.security import OAuth2PasswordBearer

from notes_app.replicas import read_connection
from notes_app.users.credentials import Caller, CredentialReader, InsufficientScope, ensure_alive, revoked
from notes_app.users.login_limit import LoginLimit
from notes_app.users.models import User
from notes_app.users.tokens import InvalidCredentials, TokenIssuer

__all__ = [
    "BEARER_SECURITY",
    "Caller",
    "CurrentCaller",
    "CurrentUser",
    "LoginLimitDep",
    "SessionCaller",
    "TokenCaller",
    "Tokens",
    "token_caller",
]

# auto_error=False: a missing token is our own 401 problem, not FastAPI's plain one.
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)

# Methods that change nothing: every other one needs notes:write.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


async def _token_caller(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Caller:
    if not token:  # no Authorization header, another scheme, or "Bearer" with nothing after it
        raise InvalidCredentials("send an access token: Authorization: Bearer <token>", token_sent=False)
    # Straight from app.state, not through a dependency: this runs on every request, and each
    # dependency costs FastAPI a little solving.
    credentials: CredentialReader = request.app.state.credentials
    caller = await credentials.caller(token)
    # The one write-scope rule: every route that takes its caller from here (all of them do, through
    # CurrentCaller, TokenCaller, SessionCaller, OwnedNote or token_caller) refuses a read-only token
    # any unsafe method.
    if not caller.can_write and request.method not in _SAFE_METHODS:
        raise InsufficientScope("this personal access token may only read: it lacks notes:write", scope="notes:write")
    await credentials.note_use(caller)
    if read_connection() is not None:
        # This request reads from a replica, where the statement carrying `caller.alive()` would still
        # find a session ended or a token revoked on the primary until the replica replays that, up to
        # REPLICA_MAX_LAG_SECONDS later. Revocation must act at once: prove it alive on the primary.
        await ensure_alive(caller)
    return caller


TokenCaller = Annotated[Caller, Depends(_token_caller)]

# What TokenCaller puts in the OpenAPI document (the bearer scheme), for a route that calls
# `token_caller` instead: its `openapi_extra`.
BEARER_SECURITY: dict[str, Any] = {"security": [{_bearer.scheme_name: []}]}


async def token_caller(request: Request) -> Caller:
    """TokenCaller's caller, by the same rules, called by the route itself: that spares FastAPI solving
    two dependencies per request (GET /notes/{id}, the hottest route). The route declares
    BEARER_SECURITY; and it should serve a safe method, since the OpenAPI document's write-scope 403
    is found from the dependencies (`refuses_read_only_tokens`), which this is not one of."""
    return await _token_caller(request, await _bearer(request))


def refuses_read_only_tokens(route: APIRoute | RouteContext) -> bool:
    """Whether the route answers 403 to a read-only personal access token: an unsafe method whose
    caller comes from `_token_caller` (directly or through any other dependency)."""

    def calls(dependant: Dependant) -> bool:
        return any(sub.call is _token_caller or calls(sub) for sub in dependant.dependencies)

    dependant: Dependant = route.dependant
    return bool((route.methods or set()) - _SAFE_METHODS) and calls(dependant)


"""A verified caller whose credential is NOT yet proven alive: only for a route whose own statement
carries `caller.alive()` (and that calls `ensure_alive` where that statement finds nothing), so that
the proof costs no extra round trip. Anything else takes CurrentCaller. (When the request reads from a
replica, the proof is made on the primary here instead, one statement more. respond_once makes it itself
before an answer its `write` did not make: a kept answer replayed, a 409 or 422 about the key.)"""


async def _current_caller(caller: TokenCaller) -> Caller:
    await ensure_alive(caller)
    return caller


CurrentCaller = Annotated[Caller, Depends(_current_caller)]
"""A verified caller whose session or personal access token was proven alive by a query just now."""


async def _session_caller(caller: CurrentCaller) -> Caller:
    if caller.session_id is None:
        raise InsufficientScope(
            "managing the account needs a session's access token, not a personal access token", scope="account"
        )
    return caller


SessionCaller = Annotated[Caller, Depends(_session_caller)]
"""A caller signed in with a session (password login): account management refuses personal access tokens."""


async def _current_user(caller: TokenCaller) -> User:
    # One statement: the account, found only while the credential is alive.
    user = await User.filter(caller.alive(), id=caller.id).first()
    if user is None:
        raise revoked()
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
