"""Sign-up, login, sessions, personal access tokens and the caller's own account."""

from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from notes_app.deps import JsonBody
from notes_app.errors import problem_responses
from notes_app.text import rfc3339
from notes_app.users import personal_tokens, service, sessions
from notes_app.users.dependencies import CurrentUser, LoginLimitDep, SessionCaller, Tokens
from notes_app.users.models import PersonalAccessToken, User
from notes_app.users.personal_tokens import PersonalTokenNotFound
from notes_app.users.schemas import (
    AccessToken,
    AccountDeletion,
    NewPersonalToken,
    PasswordChange,
    PersonalTokenCreate,
    PersonalTokenList,
    RefreshRequest,
    SessionList,
    UserCreate,
    UserPublic,
)
from notes_app.users.sessions import SessionGrant

router = APIRouter(tags=["users"])

# Ids are 32-bit columns: a larger one names nothing, and PostgreSQL would refuse it as a parameter.
MAX_ID = 2**31 - 1
_JSON = "application/json"
_NO_STORE = {"Cache-Control": {"description": "`no-store`", "schema": {"type": "string"}}}


def _public(user: User) -> dict[str, object]:
    return UserPublic.model_validate(user).model_dump(mode="json")


def _json(body: Any, *, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, headers=headers, media_type=_JSON)


def _session_lifetime(request: Request) -> timedelta:
    lifetime: timedelta = request.app.state.session_lifetime
    return lifetime


def _granted(tokens: Tokens, grant: SessionGrant) -> Response:
    session = grant.session
    body = AccessToken(
        access_token=tokens.issue(session.user_id, session.id),
        token_type="bearer",
        expires_in=int(tokens.lifetime.total_seconds()),
        refresh_token=grant.refresh_token,
        session_id=session.id,
    )
    # RFC 6749 5.1: tokens are not to be cached.
    return _json(body.model_dump(), headers={"Cache-Control": "no-store"})


@router.post(
    "/users",
    status_code=201,
    dependencies=[JsonBody],
    response_model=UserPublic,
    responses=problem_responses(400, 409, 413, 415, 422, 503),
)
async def create_user(data: UserCreate) -> dict[str, object]:
    return _public(await service.create_user(data=data))


@router.post(
    "/auth/token",
    response_model=AccessToken,
    responses={200: {"headers": _NO_STORE}, **problem_responses(401, 413, 422, 429, 503)},
)
async def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    tokens: Tokens,
    login_limit: LoginLimitDep,
) -> Response:
    user = await service.authenticate(username=form.username, password=form.password, login_limit=login_limit)
    grant = await sessions.start_session(
        user_id=user.id, user_agent=request.headers.get("user-agent"), lifetime=_session_lifetime(request)
    )
    return _granted(tokens, grant)


@router.post(
    "/auth/refresh",
    dependencies=[JsonBody],
    response_model=AccessToken,
    responses={200: {"headers": _NO_STORE}, **problem_responses(400, 401, 413, 415, 422, 503)},
)
async def refresh_token(request: Request, data: RefreshRequest, tokens: Tokens) -> Response:
    grant = await sessions.refresh_session(refresh_token=data.refresh_token, lifetime=_session_lifetime(request))
    return _granted(tokens, grant)


@router.post("/auth/logout", status_code=204, responses=problem_responses(401, 403, 503))
async def log_out(caller: SessionCaller) -> Response:
    await sessions.end_session(user_id=caller.id, session_id=caller.session_id or 0)
    return Response(status_code=204)


@router.get("/users/me", response_model=UserPublic, responses=problem_responses(401, 503))
async def read_me(user: CurrentUser) -> dict[str, object]:
    return _public(user)


@router.delete(
    "/users/me",
    status_code=204,
    dependencies=[JsonBody],
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
)
async def delete_me(data: AccountDeletion, caller: SessionCaller, login_limit: LoginLimitDep) -> Response:
    await service.delete_account(user_id=caller.id, password=data.password, login_limit=login_limit)
    return Response(status_code=204)


@router.put(
    "/users/me/password",
    status_code=204,
    dependencies=[JsonBody],
    responses=problem_responses(400, 401, 403, 413, 415, 422, 429, 503),
)
async def change_password(data: PasswordChange, caller: SessionCaller, login_limit: LoginLimitDep) -> Response:
    await service.change_password(
        user_id=caller.id,
        session_id=caller.session_id or 0,
        current_password=data.current_password,
        new_password=data.new_password,
        login_limit=login_limit,
    )
    return Response(status_code=204)


@router.get("/users/me/sessions", responses={200: {"model": SessionList}, **problem_responses(401, 403, 503)})
async def list_sessions(caller: SessionCaller) -> Response:
    items = [
        {
            "id": session.id,
            "created_at": rfc3339(session.created_at),
            "last_used_at": rfc3339(session.last_used_at),
            "user_agent": session.user_agent,
            "current": session.id == caller.session_id,
        }
        for session in await sessions.list_sessions(user_id=caller.id)
    ]
    return _json({"items": items})


@router.delete("/users/me/sessions", status_code=204, responses=problem_responses(401, 403, 503))
async def end_other_sessions(caller: SessionCaller) -> Response:
    await sessions.end_other_sessions(user_id=caller.id, keep_session_id=caller.session_id or 0)
    return Response(status_code=204)


@router.delete(
    "/users/me/sessions/{session_id:id}", status_code=204, responses=problem_responses(401, 403, 404, 422, 503)
)
async def end_session(
    session_id: Annotated[int, Path(description="The session's id (`session_id` at sign-in).")], caller: SessionCaller
) -> Response:
    # An id beyond the column's range names no session: the same 404 as any other.
    if not (1 <= session_id <= MAX_ID and await sessions.end_session(user_id=caller.id, session_id=session_id)):
        raise sessions.SessionNotFound(session_id)
    return Response(status_code=204)


def _public_token(record: PersonalAccessToken) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "scopes": personal_tokens.scopes_of(record),
        "created_at": rfc3339(record.created_at),
        "expires_at": rfc3339(record.expires_at) if record.expires_at else None,
        "last_used_at": rfc3339(record.last_used_at) if record.last_used_at else None,
    }


@router.post(
    "/users/me/tokens",
    status_code=201,
    dependencies=[JsonBody],
    responses={201: {"model": NewPersonalToken}, **problem_responses(400, 401, 403, 409, 413, 415, 422, 503)},
)
async def create_personal_token(data: PersonalTokenCreate, caller: SessionCaller) -> Response:
    created = await personal_tokens.create_personal_token(
        user_id=caller.id,
        name=data.name,
        can_write=personal_tokens.WRITE_SCOPE in data.scopes,
        expires_in_days=data.expires_in_days,
    )
    body = {**_public_token(created.record), "token": created.token}
    return _json(body, status_code=201, headers={"Cache-Control": "no-store"})


@router.get("/users/me/tokens", responses={200: {"model": PersonalTokenList}, **problem_responses(401, 403, 503)})
async def list_personal_tokens(caller: SessionCaller) -> Response:
    records = await personal_tokens.list_personal_tokens(user_id=caller.id)
    return _json({"items": [_public_token(record) for record in records]})


@router.delete("/users/me/tokens/{token_id:id}", status_code=204, responses=problem_responses(401, 403, 404, 422, 503))
async def revoke_personal_token(
    token_id: Annotated[int, Path(description="The personal access token's id.")], caller: SessionCaller
) -> Response:
    if not 1 <= token_id <= MAX_ID:
        raise PersonalTokenNotFound(token_id)
    await personal_tokens.revoke_personal_token(user_id=caller.id, token_id=token_id)
    return Response(status_code=204)
