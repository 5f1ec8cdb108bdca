"""DELETE /users/me: the account and everything it owns go, in every table, and the name is free."""

from typing import Any

import httpx
import pytest
from tortoise import Tortoise, connections
from tortoise.models import Model

from notes_app.config import Settings
from notes_app.users.models import User
from tests.conftest import Account, assert_problem, note_payload
from tests.users.accounts import bearer, fresh_account, log_in, make_token


def app_models() -> list[type[Model]]:
    """Every table the app's models describe (later tables too: they are found, not listed)."""
    return [
        model
        for model in Tortoise.apps["models"].values()
        if model._meta.app == "models" and model.__module__.startswith("notes_app")
    ]


async def rows_owned_by(user_id: int) -> dict[type[Model], set[Any]]:
    """The primary keys of every row that belongs to the account: the account's own row, and every
    row that references an owned row through a foreign key, transitively."""
    owned: dict[type[Model], set[Any]] = {User: {user_id}}
    grew = True
    while grew:
        grew = False
        for model in app_models():
            for field_name in model._meta.fk_fields:
                field = model._meta.fields_map[field_name]
                related = field.related_model  # type: ignore[attr-defined]
                if related not in owned:
                    continue
                column = f"{field_name}_id"
                keys = set(
                    await model.filter(**{f"{column}__in": list(owned[related])}).values_list(
                        model._meta.pk_attr, flat=True
                    )
                )
                if keys and not keys <= owned.setdefault(model, set()):
                    owned[model] |= keys
                    grew = True
    return owned


async def test_deleting_the_account_leaves_no_row_of_it_in_any_table(settings: Settings, dialect: str) -> None:
    async with fresh_account(settings, "dora") as (account, client):
        # Something in every kind of table this account can fill.
        assert (await client.post("/notes", json=note_payload(), headers=account.headers)).status_code == 201
        await client.post(
            "/notes/bulk", json={"notes": [note_payload(title="a"), note_payload(title="b")]}, headers=account.headers
        )
        grant = await log_in(client, account)
        await client.post("/auth/refresh", json={"refresh_token": grant["refresh_token"]})
        await make_token(client, account, scopes=["notes:read"])
        owned = await rows_owned_by(account.id)
        assert sum(len(keys) for keys in owned.values()) >= 1 + 3 + 2 + 2 + 1
        note_ids = owned.get(next(model for model in owned if model._meta.db_table == "note"), set())

        response = await client.request(
            "DELETE", "/users/me", json={"password": account.password}, headers=account.headers
        )

        assert response.status_code == 204
        for model, keys in owned.items():
            assert not await model.filter(**{f"{model._meta.pk_attr}__in": list(keys)}).exists(), model.__name__
        assert await rows_owned_by(account.id) == {User: {account.id}}  # nothing points at it any more
        if dialect == "sqlite":  # the search index is a table no model describes
            placeholders = ",".join("?" * len(note_ids))
            _, rows = await connections.get("default").execute_query(
                f"SELECT rowid FROM note_fts WHERE rowid IN ({placeholders})", list(note_ids)
            )
            assert rows == []


async def test_every_credential_of_a_deleted_account_is_refused_and_the_name_is_free(settings: Settings) -> None:
    async with fresh_account(settings, "dora") as (account, client):
        grant = await log_in(client, account)
        token = await make_token(client, account, scopes=["notes:read", "notes:write"])

        assert (
            await client.request("DELETE", "/users/me", json={"password": account.password}, headers=account.headers)
        ).status_code == 204

        for credential in (account.token, grant["access_token"], token["token"]):
            for path in ("/notes", "/notes/1", "/users/me"):
                response = await client.get(path, headers=bearer(credential))
                assert_problem(response, 401)
                assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert_problem(await client.post("/auth/refresh", json={"refresh_token": grant["refresh_token"]}), 401)
        login = {"username": account.username, "password": account.password}
        assert_problem(await client.post("/auth/token", data=login), 401)
        again = await client.post("/users", json={"username": account.username, "password": "someone else entirely"})
        assert again.status_code == 201
        assert again.json()["id"] != account.id


@pytest.mark.parametrize("password", ["wrong password", "", "x" * 5000], ids=["wrong", "empty", "oversized"])
async def test_a_wrong_password_is_401_and_deletes_nothing(settings: Settings, password: str) -> None:
    async with fresh_account(settings, "dora") as (account, client):
        response = await client.request("DELETE", "/users/me", json={"password": password}, headers=account.headers)

        assert_problem(response, 401)
        assert await User.exists(id=account.id)
        assert (await client.get("/notes", headers=account.headers)).status_code == 200


async def test_wrong_passwords_count_against_the_login_limit(settings: Settings) -> None:
    async with fresh_account(settings, "dora") as (account, client):
        for _ in range(settings.login_failures_per_minute):
            await client.request("DELETE", "/users/me", json={"password": "guess"}, headers=account.headers)

        response = await client.request(
            "DELETE", "/users/me", json={"password": account.password}, headers=account.headers
        )

        assert_problem(response, 429)
        assert await User.exists(id=account.id)


@pytest.mark.parametrize("body", [{}, {"password": 1}, {"password": "x", "also": 1}])
async def test_a_deletion_request_outside_the_schema_is_422(
    client: httpx.AsyncClient, alice: Account, body: object
) -> None:
    assert_problem(await client.request("DELETE", "/users/me", json=body), 422)
    assert await User.exists(id=alice.id)
