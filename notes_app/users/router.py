"""Sign-up, login and the caller's own account."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from notes_app.deps import JsonBody
from notes_app.errors import problem_responses
from notes_app.users import service
from notes_app.users.dependencies import CurrentUser, LoginLimitDep, Tokens
from notes_app.users.models import User
from notes_app.users.schemas import AccessToken, UserCreate, UserPublic

router = APIRouter(tags=["users"])


def _public(user: User) -> dict[str, object]:
    return UserPublic.model_validate(user).model_dump(mode="json")


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
    responses={
        200: {"headers": {"Cache-Control": {"description": "`no-store`", "schema": {"type": "string"}}}},
        **problem_responses(401, 413, 422, 429, 503),
    },
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    tokens: Tokens,
    login_limit: LoginLimitDep,
    response: Response,
) -> AccessToken:
    user = await service.authenticate(username=form.username, password=form.password, login_limit=login_limit)
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 5.1: tokens are not to be cached
    return AccessToken(
        access_token=tokens.issue(user.id),
        token_type="bearer",
        expires_in=int(tokens.lifetime.total_seconds()),
    )


@router.get("/users/me", response_model=UserPublic, responses=problem_responses(401, 503))
async def read_me(user: CurrentUser) -> dict[str, object]:
    return _public(user)
