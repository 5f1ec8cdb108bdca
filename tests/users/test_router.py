"""Sign-up, login and /users/me."""

import asyncio
import re

import httpx
import pytest

from notes_app.users.models import User
from tests.conftest import Account, assert_problem

PASSWORD = "a long enough password"


async def sign_up(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/users", json={"username": username, "password": password})


async def log_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


async def test_sign_up_returns_the_account_and_stores_only_an_argon2_hash(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await sign_up(anonymous, "carol")

    assert response.status_code == 201
    account = response.json()
    assert set(account) == {"id", "username", "created_at"}
    assert account["username"] == "carol"
    stored = await User.get(id=account["id"])
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


@pytest.mark.parametrize("username", ["ab", "x" * 41, "Alice", "has space", "semi;colon", "émile", ""])
async def test_bad_usernames_are_422(anonymous: httpx.AsyncClient, username: str) -> None:
    accounts_before = await User.all().count()

    problem = assert_problem(await sign_up(anonymous, username), 422)

    assert problem["errors"][0]["loc"] == ["body", "username"]
    assert await User.all().count() == accounts_before


@pytest.mark.parametrize("username", ["abc", "x" * 40, "a.b-c_d9"])
async def test_usernames_of_3_to_40_allowed_characters_are_accepted(
    anonymous: httpx.AsyncClient, username: str
) -> None:
    assert (await sign_up(anonymous, username)).status_code == 201


@pytest.mark.parametrize("password", ["short", "x" * 7, "x" * 129, "nul\x00byte!"])
async def test_bad_passwords_are_422(anonymous: httpx.AsyncClient, password: str) -> None:
    problem = assert_problem(await sign_up(anonymous, "dave", password), 422)

    assert problem["errors"][0]["loc"] == ["body", "password"]
    assert not await User.exists(username="dave")


async def test_sign_up_refuses_unknown_fields(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/users", json={"username": "erin", "password": PASSWORD, "id": 1})

    assert_problem(response, 422)
    assert not await User.exists(username="erin")


async def test_a_taken_username_is_409(anonymous: httpx.AsyncClient, alice: Account) -> None:
    problem = assert_problem(await sign_up(anonymous, alice.username), 409)

    assert "taken" in problem["detail"]
    assert await User.filter(username=alice.username).count() == 1


async def test_concurrent_sign_ups_for_one_name_give_one_201_and_the_rest_409(
    anonymous: httpx.AsyncClient,
) -> None:
    responses = await asyncio.gather(*(sign_up(anonymous, "frank", f"password number {i}") for i in range(6)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 409, 409, 409, 409, 409]
    assert await User.filter(username="frank").count() == 1


async def test_login_returns_a_bearer_token_that_is_not_cached(anonymous: httpx.AsyncClient) -> None:
    await sign_up(anonymous, "grace")

    response = await log_in(anonymous, "grace")

    assert response.status_code == 200
    token = response.json()
    assert set(token) == {"access_token", "token_type", "expires_in", "refresh_token", "session_id"}
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 15 * 60
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", token["access_token"])
    assert response.headers["cache-control"] == "no-store"


async def test_the_token_identifies_the_user(anonymous: httpx.AsyncClient) -> None:
    account = (await sign_up(anonymous, "heidi")).json()
    token = (await log_in(anonymous, "heidi")).json()["access_token"]

    response = await anonymous.get("/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == account


async def test_a_wrong_password_and_an_unknown_user_answer_alike(anonymous: httpx.AsyncClient, alice: Account) -> None:
    wrong_password = await log_in(anonymous, alice.username, "not the password")
    unknown_user = await log_in(anonymous, "nobody-here", "not the password")

    for response in (wrong_password, unknown_user):
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert wrong_password.content == unknown_user.content


@pytest.mark.parametrize("form", [{"username": "alice"}, {"password": PASSWORD}, {}])
async def test_login_without_both_fields_is_422(anonymous: httpx.AsyncClient, form: dict[str, str]) -> None:
    assert_problem(await anonymous.post("/auth/token", data=form), 422)


async def test_login_with_json_instead_of_a_form_is_422(anonymous: httpx.AsyncClient, alice: Account) -> None:
    response = await anonymous.post("/auth/token", json={"username": alice.username, "password": alice.password})

    assert_problem(response, 422)


async def test_me_is_the_caller(client: httpx.AsyncClient, alice: Account) -> None:
    me = (await client.get("/users/me")).json()

    assert (me["id"], me["username"]) == (alice.id, alice.username)
