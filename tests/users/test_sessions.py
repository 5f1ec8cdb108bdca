"""Sessions: login, rotating single-use refresh tokens, logout, listing and ending sessions."""

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from notes_app.config import Settings
from notes_app.notes.models import Note
from notes_app.users.models import RefreshToken, UserSession
from tests.conftest import Account, assert_problem, note_payload
from tests.users.accounts import bearer, fresh_account, log_in

INVALID_TOKEN = 'Bearer error="invalid_token"'


async def refresh(client: httpx.AsyncClient, refresh_token: object) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def assert_refused(client: httpx.AsyncClient, access_token: str) -> None:
    response = await client.get("/notes", headers=bearer(access_token))
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == INVALID_TOKEN


async def test_login_opens_a_session_and_stores_only_the_refresh_tokens_hash(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        grant = await log_in(client, account, user_agent="Editor/1.0")

        session = await UserSession.get(id=grant["session_id"])
        assert (session.user_id, session.user_agent) == (account.id, "Editor/1.0")
        [stored] = await RefreshToken.filter(session_id=session.id)
        assert stored.token_hash == hashlib.sha256(grant["refresh_token"].encode()).hexdigest()
        assert (await client.get("/users/me", headers=bearer(grant["access_token"]))).status_code == 200


async def test_refresh_rotates_both_tokens_and_keeps_the_session(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        grant = await log_in(client, account)

        response = await refresh(client, grant["refresh_token"])

        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        renewed = response.json()
        assert set(renewed) == {"access_token", "token_type", "expires_in", "refresh_token", "session_id"}
        assert renewed["session_id"] == grant["session_id"]
        assert renewed["refresh_token"] != grant["refresh_token"]
        assert (await client.get("/notes", headers=bearer(renewed["access_token"]))).status_code == 200
        # The new refresh token works in its turn.
        assert (await refresh(client, renewed["refresh_token"])).status_code == 200


async def test_a_refresh_token_replayed_after_rotation_ends_the_whole_session(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        stolen = await log_in(client, account)
        renewed = (await refresh(client, stolen["refresh_token"])).json()

        replay = await refresh(client, stolen["refresh_token"])

        assert_problem(replay, 401)
        assert not await UserSession.exists(id=stolen["session_id"])
        # Every token of the session stops working: the thief's and the rightful client's alike.
        await assert_refused(client, stolen["access_token"])
        await assert_refused(client, renewed["access_token"])
        assert_problem(await refresh(client, renewed["refresh_token"]), 401)


async def test_a_replay_ends_only_that_session(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        phone = await log_in(client, account)
        laptop = await log_in(client, account)
        await refresh(client, phone["refresh_token"])

        assert_problem(await refresh(client, phone["refresh_token"]), 401)

        assert (await client.get("/notes", headers=bearer(laptop["access_token"]))).status_code == 200


async def test_two_concurrent_refreshes_with_one_token_give_at_most_one_and_end_the_session(
    settings: Settings,
) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        grant = await log_in(client, account)

        responses = await asyncio.gather(*(refresh(client, grant["refresh_token"]) for _ in range(2)))

        assert sorted(response.status_code for response in responses) == [200, 401]
        # The second presentation is a reuse: the session ends, the winner's tokens with it.
        assert not await UserSession.exists(id=grant["session_id"])
        winner = next(response for response in responses if response.status_code == 200).json()
        await assert_refused(client, winner["access_token"])


@pytest.mark.parametrize(
    "refresh_token",
    ["", "x", "not a token at all", "A" * 43, "x" * 5000, "\\u00e9\\u0000\\ud800", "nat_" + "A" * 43],
    ids=["empty", "short", "spaces", "unknown", "oversized", "odd-characters", "a-personal-token"],
)
async def test_a_malformed_or_unknown_refresh_token_is_401_with_one_body(
    anonymous: httpx.AsyncClient, alice: Account, refresh_token: str
) -> None:
    sessions_before = await UserSession.all().count()

    # Sent as JSON text, so that escapes (a NUL, a lone surrogate) reach the server as written.
    body = '{"refresh_token": "' + refresh_token + '"}'
    response = await anonymous.post("/auth/refresh", content=body, headers={"Content-Type": "application/json"})

    assert_problem(response, 401)
    assert response.json()["detail"] == "the refresh token is not valid: sign in again"
    assert await UserSession.all().count() == sessions_before


async def test_spent_unknown_and_ended_sessions_refresh_tokens_answer_alike(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        rotated = await log_in(client, account)
        await refresh(client, rotated["refresh_token"])
        logged_out = await log_in(client, account)
        await client.post("/auth/logout", headers=bearer(logged_out["access_token"]))

        spent = await refresh(client, rotated["refresh_token"])
        unknown = await refresh(client, "A" * 43)
        ended = await refresh(client, logged_out["refresh_token"])

        for response in (spent, unknown, ended):
            assert_problem(response, 401)
        assert spent.content == unknown.content == ended.content


@pytest.mark.parametrize("body", [{}, {"refresh_token": 12}, {"refresh_token": None}, {"refresh_token": "x", "a": 1}])
async def test_a_refresh_request_that_is_not_the_schema_is_422(anonymous: httpx.AsyncClient, body: object) -> None:
    assert_problem(await anonymous.post("/auth/refresh", json=body), 422)


async def test_an_expired_session_cannot_be_refreshed_and_ends(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        grant = await log_in(client, account)
        await UserSession.filter(id=grant["session_id"]).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

        assert_problem(await refresh(client, grant["refresh_token"]), 401)

        assert not await UserSession.exists(id=grant["session_id"])


async def test_logout_refuses_the_sessions_tokens_on_the_next_request(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        grant = await log_in(client, account)
        other = await log_in(client, account)

        response = await client.post("/auth/logout", headers=bearer(grant["access_token"]))

        assert response.status_code == 204
        await assert_refused(client, grant["access_token"])
        assert_problem(await client.get("/users/me", headers=bearer(grant["access_token"])), 401)
        assert_problem(await refresh(client, grant["refresh_token"]), 401)
        assert (await client.get("/notes", headers=bearer(other["access_token"]))).status_code == 200


async def test_sessions_are_listed_with_the_current_one_marked(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        phone = await log_in(client, account, user_agent="Phone/2")
        laptop = await log_in(client, account, user_agent="Laptop/3")
        ended = await log_in(client, account)
        await client.post("/auth/logout", headers=bearer(ended["access_token"]))

        response = await client.get("/users/me/sessions", headers=bearer(laptop["access_token"]))

        assert response.status_code == 200
        items = {item["id"]: item for item in response.json()["items"]}
        # The fixture's own session, the phone and the laptop; the ended one is not listed.
        assert set(items) == {account.session_id, phone["session_id"], laptop["session_id"]}
        assert items[laptop["session_id"]]["current"] is True
        assert items[phone["session_id"]]["current"] is False
        assert items[phone["session_id"]]["user_agent"] == "Phone/2"
        assert set(items[phone["session_id"]]) == {"id", "created_at", "last_used_at", "user_agent", "current"}
        assert items[phone["session_id"]]["created_at"].endswith("Z")


async def test_ending_one_session_refuses_its_tokens_at_once_and_leaves_the_others(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        phone = await log_in(client, account)
        laptop = await log_in(client, account)

        response = await client.delete(
            f"/users/me/sessions/{phone['session_id']}", headers=bearer(laptop["access_token"])
        )

        assert response.status_code == 204
        await assert_refused(client, phone["access_token"])
        assert_problem(await refresh(client, phone["refresh_token"]), 401)
        assert (await client.get("/notes", headers=bearer(laptop["access_token"]))).status_code == 200


async def test_ending_every_other_session_keeps_the_callers(settings: Settings) -> None:
    async with fresh_account(settings, "sam") as (account, client):
        phone = await log_in(client, account)
        laptop = await log_in(client, account)

        response = await client.delete("/users/me/sessions", headers=bearer(laptop["access_token"]))

        assert response.status_code == 204
        await assert_refused(client, phone["access_token"])
        await assert_refused(client, account.token)
        assert (await client.get("/notes", headers=bearer(laptop["access_token"]))).status_code == 200
        assert await UserSession.filter(user_id=account.id).count() == 1


@pytest.mark.parametrize("session_id", ["0", "999999", str(2**31), str(2**63), "9" * 40])
async def test_ending_a_session_that_does_not_exist_is_404(client: httpx.AsyncClient, session_id: str) -> None:
    assert_problem(await client.delete(f"/users/me/sessions/{session_id}"), 404)


async def test_another_users_session_is_404_and_keeps_working(client: httpx.AsyncClient, bob: Account) -> None:
    assert_problem(await client.delete(f"/users/me/sessions/{bob.session_id}"), 404)

    assert (await client.get("/notes", headers=bob.headers)).status_code == 200


async def test_an_ended_sessions_access_token_creates_no_note(settings: Settings) -> None:
    # POST /notes proves the session alive inside its own statement on PostgreSQL
    # (notes_app/notes/postgres_writes.py), with a lookup first on SQLite: both refuse it.
    async with fresh_account(settings, "sol") as (account, client):
        ended = await log_in(client, account)
        await client.post("/auth/logout", headers=bearer(ended["access_token"]))
        notes_before = await Note.all().count()

        for key in ({}, {"Idempotency-Key": "first"}):
            response = await client.post(
                "/notes", json=note_payload(), headers={**bearer(ended["access_token"]), **key}
            )
            assert_problem(response, 401)

        assert await Note.all().count() == notes_before


async def test_an_ended_sessions_access_token_changes_no_note(settings: Settings) -> None:
    # PATCH and PUT find the note and prove the session alive in their one statement on PostgreSQL
    # (notes_app/notes/postgres_writes.py), through the owned note's lookup on SQLite: 401 either way,
    # for the session's own note as for one that does not exist, never 404 or 412.
    async with fresh_account(settings, "sol") as (account, client):
        ended = await log_in(client, account)
        note = (await client.post("/notes", json=note_payload(), headers=bearer(ended["access_token"]))).json()
        await client.post("/auth/logout", headers=bearer(ended["access_token"]))

        for note_id in (note["id"], 2_147_483_647):
            for method, body in (("PATCH", {"title": "changed"}), ("PUT", note_payload(title="changed"))):
                stale = {"If-Match": f'"{note_id}-9"'}
                for headers in ({}, stale):
                    response = await client.request(
                        method, f"/notes/{note_id}", json=body, headers={**bearer(ended["access_token"]), **headers}
                    )
                    assert_problem(response, 401)

        assert await Note.get(id=note["id"]).values("title", "version") == {"title": note["title"], "version": 1}


@pytest.mark.parametrize(
    ("path", "body", "another"),
    [
        ("/notes", note_payload(), note_payload(title="another")),
        ("/notes/bulk", {"notes": [note_payload()]}, {"notes": [note_payload(title="another")]}),
    ],
    ids=["create", "bulk"],
)
async def test_an_ended_session_gets_no_kept_answer_for_its_idempotency_key(
    settings: Settings, path: str, body: dict[str, object], another: dict[str, object]
) -> None:
    # A replay skips the write, where POST /notes proves the session alive: it must be refused anyway,
    # and so must another body with the key (its 422 would tell that the key was used).
    async with fresh_account(settings, "sol") as (account, client):
        session = await log_in(client, account)
        headers = {**bearer(session["access_token"]), "Idempotency-Key": "k1"}
        assert (await client.post(path, json=body, headers=headers)).status_code == 201
        await client.post("/auth/logout", headers=bearer(session["access_token"]))
        notes_before = await Note.all().count()

        for sent in (body, another):
            response = await client.post(path, json=sent, headers=headers)
            assert_problem(response, 401)
            assert "idempotent-replayed" not in response.headers

        assert await Note.all().count() == notes_before
