"""Personal access tokens: creation, scopes, expiry, revocation, and what they may not do."""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from notes_app.config import Settings
from notes_app.notes.models import Note
from notes_app.users.models import PersonalAccessToken
from tests.conftest import Account, assert_problem, create_note, note_payload
from tests.users.accounts import bearer, fresh_account, make_token

READ = ["notes:read"]
READ_WRITE = ["notes:read", "notes:write"]


async def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(client: httpx.AsyncClient, alice: Account) -> None:
    created = await make_token(client, alice, scopes=READ_WRITE, name="backup script", expires_in_days=30)

    assert set(created) == {"id", "name", "token", "scopes", "created_at", "expires_at", "last_used_at"}
    assert re.fullmatch(r"nat_[A-Za-z0-9_-]{43}", created["token"])
    assert (created["name"], created["scopes"], created["last_used_at"]) == ("backup script", READ_WRITE, None)
    created_at = datetime.fromisoformat(created["created_at"])
    expires_at = datetime.fromisoformat(created["expires_at"])
    assert expires_at - created_at == timedelta(days=30)
    stored = await PersonalAccessToken.get(id=created["id"])
    assert stored.token_hash == hashlib.sha256(created["token"].encode()).hexdigest()
    listed = (await client.get("/users/me/tokens")).json()["items"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert "token" not in listed[0]


async def test_a_token_without_expiry_has_none(client: httpx.AsyncClient, alice: Account) -> None:
    assert (await make_token(client, alice, scopes=READ))["expires_at"] is None


async def test_a_read_write_token_reads_and_writes_its_owners_notes_only(
    client: httpx.AsyncClient, alice: Account, bob_client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    token = (await make_token(client, alice, scopes=READ_WRITE))["token"]
    bobs = await create_note(bob_client)

    created = await anonymous.post("/notes", json=note_payload(), headers=bearer(token))
    assert created.status_code == 201
    assert (await anonymous.get(f"/notes/{created.json()['id']}", headers=bearer(token))).status_code == 200
    assert (
        await anonymous.patch(f"/notes/{created.json()['id']}", json={"pinned": True}, headers=bearer(token))
    ).status_code == 200
    assert_problem(await anonymous.get(f"/notes/{bobs['id']}", headers=bearer(token)), 404)
    me = (await anonymous.get("/users/me", headers=bearer(token))).json()
    assert me["id"] == alice.id


async def test_a_read_only_token_reads_but_every_write_is_403_insufficient_scope(
    client: httpx.AsyncClient, alice: Account, anonymous: httpx.AsyncClient
) -> None:
    note = await create_note(client)
    token = (await make_token(client, alice, scopes=READ))["token"]
    headers = bearer(token)
    assert (await anonymous.get(f"/notes/{note['id']}", headers=headers)).status_code == 200
    assert (await anonymous.get("/notes", headers=headers)).status_code == 200

    writes: list[tuple[str, str, Any]] = [
        ("POST", "/notes", note_payload()),
        ("POST", "/notes/bulk", {"notes": [note_payload()]}),
        ("PUT", f"/notes/{note['id']}", note_payload(title="changed")),
        ("PATCH", f"/notes/{note['id']}", {"title": "changed"}),
        ("DELETE", f"/notes/{note['id']}", None),
    ]
    for method, path, body in writes:
        response = await anonymous.request(method, path, json=body, headers=headers)
        assert_problem(response, 403)
        assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="notes:write"'

    assert await Note.all().count() == 1
    assert (await client.get(f"/notes/{note['id']}")).json() == note


async def test_revoking_a_token_refuses_it_on_the_next_request(client: httpx.AsyncClient, alice: Account) -> None:
    token = await make_token(client, alice, scopes=READ)
    note = await create_note(client)
    # Used through the same app first: its facts are remembered, and must not keep it alive.
    assert (await client.get(f"/notes/{note['id']}", headers=bearer(token["token"]))).status_code == 200

    assert (await client.delete(f"/users/me/tokens/{token['id']}")).status_code == 204

    for path in (f"/notes/{note['id']}", "/notes", "/users/me"):
        response = await client.get(path, headers=bearer(token["token"]))
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert (await client.get("/users/me/tokens")).json()["items"] == []


async def test_an_expired_token_is_401_and_no_longer_listed(client: httpx.AsyncClient, alice: Account) -> None:
    token = await make_token(client, alice, scopes=READ, expires_in_days=1)
    await PersonalAccessToken.filter(id=token["id"]).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    problem = assert_problem(await client.get("/notes", headers=bearer(token["token"])), 401)

    assert "expired" in problem["detail"]
    assert (await client.get("/users/me/tokens")).json()["items"] == []


@pytest.mark.parametrize(
    "token",
    ["nat_", "nat_" + "A" * 42, "nat_" + "A" * 43, "nat_" + "A" * 44, "nat_" + "x" * 5000, "nat_" + "\u00e9" * 43],
    ids=["empty", "short", "unknown", "long", "oversized", "non-ascii"],
)
async def test_a_malformed_or_unknown_personal_token_is_401(anonymous: httpx.AsyncClient, token: str) -> None:
    # As bytes: a header may carry any octets, and the server must refuse them, not fail on them.
    response = await anonymous.get("/notes", headers={"Authorization": f"Bearer {token}".encode()})

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "scopes": READ}, "name"),
        ({"name": "   ", "scopes": READ}, "name"),
        ({"name": "x" * 101, "scopes": READ}, "name"),
        ({"name": "nul\x00", "scopes": READ}, "name"),
        ({"name": "s", "scopes": []}, "scopes"),
        ({"name": "s", "scopes": ["notes:write"]}, "scopes"),
        ({"name": "s", "scopes": ["notes:read", "notes:read"]}, "scopes"),
        ({"name": "s", "scopes": ["notes:read", "admin"]}, "scopes"),
        ({"name": "s", "scopes": [*READ_WRITE, "notes:read"]}, "scopes"),
        ({"name": "s", "scopes": READ, "expires_in_days": 0}, "expires_in_days"),
        ({"name": "s", "scopes": READ, "expires_in_days": 366}, "expires_in_days"),
        ({"name": "s", "scopes": READ, "expires_in_days": 2**63}, "expires_in_days"),
        ({"name": "s", "scopes": READ, "expires_in_days": "7"}, "expires_in_days"),
        ({"name": "s", "scopes": READ, "expires_in_days": 7.5}, "expires_in_days"),
        ({"name": "s", "scopes": READ, "expires_in_days": True}, "expires_in_days"),
        ({"name": "s", "scopes": READ, "id": 7}, "id"),
        ({"scopes": READ}, "name"),
    ],
)
async def test_token_requests_outside_the_rules_are_422_and_create_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(await client.post("/users/me/tokens", json=body), 422)

    assert problem["errors"][0]["loc"][:2] == ["body", field]
    assert await PersonalAccessToken.all().count() == 0


async def test_names_are_trimmed_and_100_characters_are_enough(client: httpx.AsyncClient, alice: Account) -> None:
    assert (await make_token(client, alice, scopes=READ, name="  " + "n" * 100 + " "))["name"] == "n" * 100


async def test_the_51st_token_is_409(client: httpx.AsyncClient, alice: Account) -> None:
    for number in range(50):
        await make_token(client, alice, scopes=READ, name=f"token {number}")

    problem = assert_problem(await client.post("/users/me/tokens", json={"name": "one more", "scopes": READ}), 409)

    assert "50" in problem["detail"]
    assert await PersonalAccessToken.filter(user_id=alice.id).count() == 50


async def test_an_expired_token_does_not_count_towards_the_50(client: httpx.AsyncClient, alice: Account) -> None:
    for number in range(50):
        await make_token(client, alice, scopes=READ, name=f"token {number}")
    await PersonalAccessToken.filter(name="token 0").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    assert (await client.post("/users/me/tokens", json={"name": "one more", "scopes": READ})).status_code == 201


@pytest.mark.parametrize("token_id", ["0", "999999", str(2**31), str(2**63), "9" * 40])
async def test_revoking_a_token_that_does_not_exist_is_404(client: httpx.AsyncClient, token_id: str) -> None:
    assert_problem(await client.delete(f"/users/me/tokens/{token_id}"), 404)


async def test_another_users_token_is_404_and_keeps_working(
    client: httpx.AsyncClient, bob: Account, bob_client: httpx.AsyncClient
) -> None:
    bobs = await make_token(bob_client, bob, scopes=READ)

    assert_problem(await client.delete(f"/users/me/tokens/{bobs['id']}"), 404)

    assert (await bob_client.get("/notes", headers=bearer(bobs["token"]))).status_code == 200
    assert [item["id"] for item in (await client.get("/users/me/tokens")).json()["items"]] == []


ACCOUNT_MANAGEMENT: list[tuple[str, str, Any]] = [
    ("POST", "/auth/logout", None),
    ("GET", "/users/me/sessions", None),
    ("DELETE", "/users/me/sessions", None),
    ("DELETE", "/users/me/sessions/1", None),
    ("PUT", "/users/me/password", {"current_password": "correct horse battery", "new_password": "another password"}),
    ("POST", "/users/me/tokens", {"name": "escalate", "scopes": READ_WRITE}),
    ("GET", "/users/me/tokens", None),
    ("DELETE", "/users/me/tokens/1", None),
    ("DELETE", "/users/me", {"password": "correct horse battery"}),
]


@pytest.mark.parametrize("scopes", [READ, READ_WRITE], ids=["read", "read-write"])
async def test_account_management_refuses_personal_tokens_with_403(settings: Settings, scopes: list[str]) -> None:
    async with fresh_account(settings, "pat") as (account, client):
        token = await make_token(client, account, scopes=scopes)

        for method, path, body in ACCOUNT_MANAGEMENT:
            response = await client.request(method, path, json=body, headers=bearer(token["token"]))
            assert_problem(response, 403)

        # Nothing was changed: the sessions, the token and the password are as they were.
        assert (await client.get("/users/me/sessions", headers=account.headers)).status_code == 200
        assert [t["id"] for t in (await client.get("/users/me/tokens", headers=account.headers)).json()["items"]] == [
            token["id"]
        ]
        login = {"username": account.username, "password": account.password}
        assert (await client.post("/auth/token", data=login)).status_code == 200


async def test_an_integral_float_is_an_integer_as_json_schema_says(client: httpx.AsyncClient) -> None:
    response = await client.post("/users/me/tokens", json={"name": "s", "scopes": READ, "expires_in_days": 7.0})

    assert response.status_code == 201
    created = response.json()
    days = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(created["created_at"])
    assert days == timedelta(days=7)


async def test_a_revoked_read_write_token_can_write_nothing(client: httpx.AsyncClient, alice: Account) -> None:
    token = await make_token(client, alice, scopes=READ_WRITE)
    note = await create_note(client)
    assert (await client.post("/notes", json=note_payload(), headers=bearer(token["token"]))).status_code == 201
    notes_before = await Note.all().count()

    assert (await client.delete(f"/users/me/tokens/{token['id']}")).status_code == 204

    writes: list[tuple[str, str, Any]] = [
        ("POST", "/notes", note_payload()),
        ("POST", "/notes/bulk", {"notes": [note_payload()]}),
        ("PATCH", f"/notes/{note['id']}", {"title": "changed"}),
        ("PUT", f"/notes/{note['id']}", note_payload(title="changed")),
        ("DELETE", f"/notes/{note['id']}", None),
    ]
    for method, path, body in writes:
        assert_problem(await client.request(method, path, json=body, headers=bearer(token["token"])), 401)
    assert await Note.all().count() == notes_before
    assert (await client.get(f"/notes/{note['id']}")).json() == note


async def test_the_document_states_the_bounds_of_a_token_request(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["PersonalTokenCreate"]

    days = next(option for option in schema["properties"]["expires_in_days"]["anyOf"] if option["type"] == "integer")
    assert (days["minimum"], days["maximum"]) == (1, 365)
    assert schema["properties"]["scopes"]["contains"] == {"const": "notes:read"}
    assert schema["additionalProperties"] is False


async def test_a_revoked_token_gets_no_kept_answer_for_its_idempotency_key(
    client: httpx.AsyncClient, alice: Account
) -> None:
    # A replay skips the write, where POST /notes proves the token alive: it must be refused anyway, and
    # so must another body with the key (its 422 would tell that the key was used).
    token = await make_token(client, alice, scopes=READ_WRITE)
    headers = {**bearer(token["token"]), "Idempotency-Key": "k1"}
    assert (await client.post("/notes", json=note_payload(), headers=headers)).status_code == 201
    assert (await client.delete(f"/users/me/tokens/{token['id']}")).status_code == 204
    notes_before = await Note.all().count()

    for body in (note_payload(), note_payload(title="another")):
        response = await client.post("/notes", json=body, headers=headers)
        assert_problem(response, 401)
        assert "idempotent-replayed" not in response.headers

    assert await Note.all().count() == notes_before
