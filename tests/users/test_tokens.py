"""Every way a bearer token can be wrong is 401 with WWW-Authenticate: Bearer."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from notes_app.config import Settings
from notes_app.notes.models import Note
from notes_app.users import tokens
from notes_app.users.models import User
from notes_app.users.tokens import InvalidCredentials, TokenIssuer
from tests.conftest import TEST_SECRET_KEY, Account, assert_problem, create_note
from tests.users.test_router import log_in, sign_up

NOW = datetime.now(UTC)
GOOD_CLAIMS = {"sub": "1", "sid": 1, "iat": NOW, "exp": NOW + timedelta(hours=1)}
PROTECTED = [
    ("GET", "/notes"),
    ("POST", "/notes"),
    ("GET", "/notes/1"),
    ("DELETE", "/notes/1"),
    ("GET", "/users/me"),
]


def signed(claims: dict[str, Any], key: str = TEST_SECRET_KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def unsigned(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]


async def assert_401(client: httpx.AsyncClient, headers: dict[str, str], challenge: str) -> None:
    for method, path in PROTECTED:
        body = {"notes": [{"title": "t"}]} if path.endswith("/bulk") else {"title": "t"}
        response = await client.request(method, path, headers=headers, json=body)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == challenge, (method, path)


async def test_no_token_is_401_with_the_bare_challenge(anonymous: httpx.AsyncClient) -> None:
    await assert_401(anonymous, {}, "Bearer")


@pytest.mark.parametrize("authorization", ["Basic YWxpY2U6cGFzcw==", "Bearer", "Token abc", ""])
async def test_a_header_that_is_not_a_bearer_token_is_401(anonymous: httpx.AsyncClient, authorization: str) -> None:
    await assert_401(anonymous, {"Authorization": authorization}, "Bearer")


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        "a.b.c",
        signed(GOOD_CLAIMS, key="some other key of a decent length 1234"),
        unsigned(GOOD_CLAIMS),
        signed(GOOD_CLAIMS, algorithm="HS384"),
        signed(GOOD_CLAIMS, algorithm="HS512"),
        signed({**GOOD_CLAIMS, "exp": NOW - timedelta(seconds=5)}),
        signed({"sid": 1, "iat": NOW, "exp": NOW + timedelta(hours=1)}),
        signed({"sub": "1", "sid": 1, "iat": NOW}),
        signed({"sub": "1", "sid": 1, "exp": NOW + timedelta(hours=1)}),
        signed({"sub": "1", "iat": NOW, "exp": NOW + timedelta(hours=1)}),
        signed({**GOOD_CLAIMS, "sid": "1"}),
        signed({**GOOD_CLAIMS, "sub": "alice"}),
        signed({**GOOD_CLAIMS, "sub": 1}),
        signed({**GOOD_CLAIMS, "sub": "-1"}),
    ],
    ids=[
        "garbage",
        "three-dots",
        "bad-signature",
        "alg-none",
        "hs384",
        "hs512",
        "expired",
        "no-sub",
        "no-exp",
        "no-iat",
        "sub-not-an-id",
        "sub-not-a-string",
        "sub-negative",
        "no-sid",
        "sid-not-an-integer",
    ],
)
async def test_a_bad_token_is_401_naming_invalid_token(anonymous: httpx.AsyncClient, token: str) -> None:
    await assert_401(anonymous, {"Authorization": f"Bearer {token}"}, 'Bearer error="invalid_token"')


async def test_a_token_of_a_deleted_account_is_401(anonymous: httpx.AsyncClient) -> None:
    await sign_up(anonymous, "ivan")
    token = (await log_in(anonymous, "ivan")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await anonymous.get("/users/me", headers=headers)).status_code == 200

    await User.filter(username="ivan").delete()

    await assert_401(anonymous, headers, 'Bearer error="invalid_token"')


async def test_an_expired_token_says_so(anonymous: httpx.AsyncClient, alice: Account) -> None:
    token = signed(
        {
            "sub": str(alice.id),
            "sid": alice.session_id,
            "iat": NOW - timedelta(hours=2),
            "exp": NOW - timedelta(hours=1),
        }
    )

    problem = assert_problem(await anonymous.get("/users/me", headers={"Authorization": f"Bearer {token}"}), 401)

    assert "expired" in problem["detail"]


async def test_a_rejected_request_writes_nothing(anonymous: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    forged = signed(GOOD_CLAIMS, key="some other key of a decent length 1234")

    for method in ("PUT", "PATCH", "DELETE"):
        response = await anonymous.request(
            method,
            f"/notes/{note['id']}",
            json={"title": "hijacked"},
            headers={"Authorization": f"Bearer {forged}"},
        )
        assert_problem(response, 401)

    assert (await client.get(f"/notes/{note['id']}")).json() == note


async def test_a_deleted_accounts_notes_and_token_go_with_it(anonymous: httpx.AsyncClient) -> None:
    await sign_up(anonymous, "judy")
    token = (await log_in(anonymous, "judy")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    note = (await anonymous.post("/notes", json={"title": "mine"}, headers=headers)).json()
    assert (await anonymous.get(f"/notes/{note['id']}", headers=headers)).status_code == 200

    await User.filter(username="judy").delete()

    assert_problem(await anonymous.get(f"/notes/{note['id']}", headers=headers), 401)
    assert_problem(await anonymous.post("/notes", json={"title": "after"}, headers=headers), 401)
    assert await Note.all().count() == 0


async def test_a_remembered_token_still_expires(
    settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    issuer = TokenIssuer(key=TEST_SECRET_KEY, lifetime=timedelta(minutes=1))
    token = issuer.issue(alice.id, alice.session_id)
    assert issuer.subject(token) == (alice.id, alice.session_id)  # verified, and now remembered
    later = time.time() + 120
    monkeypatch.setattr(tokens.time, "time", lambda: later)

    with pytest.raises(InvalidCredentials, match="expired"):
        issuer.subject(token)
