"""PUT /users/me/password: a new password ends every other session and revokes every personal token."""

import httpx
import pytest

from notes_app.config import Settings
from notes_app.users.models import User
from tests.conftest import assert_problem
from tests.users.accounts import bearer, fresh_account, log_in, make_token

NEW = "a brand new password"


async def change(client: httpx.AsyncClient, access_token: str, current: str, new: str = NEW) -> httpx.Response:
    body = {"current_password": current, "new_password": new}
    return await client.put("/users/me/password", json=body, headers=bearer(access_token))


async def test_a_new_password_ends_every_other_session_and_revokes_every_token(settings: Settings) -> None:
    async with fresh_account(settings, "pam") as (account, client):
        here = await log_in(client, account)
        elsewhere = await log_in(client, account)
        token = await make_token(client, account, scopes=["notes:read", "notes:write"])

        response = await change(client, here["access_token"], account.password)

        assert response.status_code == 204
        for credential in (elsewhere["access_token"], account.token, token["token"]):
            assert_problem(await client.get("/notes", headers=bearer(credential)), 401)
        refused = await client.post("/auth/refresh", json={"refresh_token": elsewhere["refresh_token"]})
        assert_problem(refused, 401)
        # The session that changed it goes on, and so does its refresh token.
        assert (await client.get("/notes", headers=bearer(here["access_token"]))).status_code == 200
        assert (await client.post("/auth/refresh", json={"refresh_token": here["refresh_token"]})).status_code == 200
        old = {"username": account.username, "password": account.password}
        assert_problem(await client.post("/auth/token", data=old), 401)
        assert (await client.post("/auth/token", data={**old, "password": NEW})).status_code == 200


@pytest.mark.parametrize("current", ["wrong password", "", "x" * 5000], ids=["wrong", "empty", "oversized"])
async def test_a_wrong_current_password_is_401_and_changes_nothing(settings: Settings, current: str) -> None:
    async with fresh_account(settings, "pam") as (account, client):
        other = await log_in(client, account)
        token = await make_token(client, account, scopes=["notes:read"])
        hash_before = (await User.get(id=account.id)).password_hash

        response = await change(client, account.token, current)

        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert (await User.get(id=account.id)).password_hash == hash_before
        for credential in (other["access_token"], token["token"]):
            assert (await client.get("/notes", headers=bearer(credential))).status_code == 200


async def test_wrong_current_passwords_count_against_the_login_limit(settings: Settings) -> None:
    async with fresh_account(settings, "pam") as (account, client):
        for _ in range(settings.login_failures_per_minute):
            assert_problem(await change(client, account.token, "wrong guess"), 401)

        limited = await change(client, account.token, account.password)
        login = await client.post("/auth/token", data={"username": account.username, "password": account.password})

        for response in (limited, login):
            assert_problem(response, 429)
            assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("new", ["short", "x" * 129, "nul\x00byte!"])
async def test_a_new_password_outside_the_rules_is_422(settings: Settings, new: str) -> None:
    async with fresh_account(settings, "pam") as (account, client):
        problem = assert_problem(await change(client, account.token, account.password, new), 422)

        assert problem["errors"][0]["loc"] == ["body", "new_password"]
        assert (await log_in(client, account))["access_token"]


async def test_a_current_password_with_a_lone_surrogate_is_401_not_500(settings: Settings) -> None:
    async with fresh_account(settings, "pam") as (account, client):
        body = '{"current_password": "\\ud800 guess", "new_password": "a brand new password"}'
        headers = {**bearer(account.token), "Content-Type": "application/json"}

        assert_problem(await client.put("/users/me/password", content=body, headers=headers), 401)
