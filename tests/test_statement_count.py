"""The hot reads stay one statement each, with the credential's liveness checked inside that statement.

Counted at the driver (tests/conftest.py `statements`), on both databases. A request's first use of a
credential in a process may cost more (a personal access token's lookup, a last_used_at write at most
once a minute): those are warmed up first, and proven bounded below.
"""

import httpx

from notes_app.config import Settings
from tests.conftest import Account, StatementCounter, create_note
from tests.users.accounts import bearer, make_token


async def assert_reads_are_one_statement(
    client: httpx.AsyncClient, headers: dict[str, str], note_id: int, statements: StatementCounter
) -> None:
    for path in (f"/notes/{note_id}", "/notes"):
        assert (await client.get(path, headers=headers)).status_code == 200  # warm-up
        statements.reset()
        response = await client.get(path, headers=headers)
        assert response.status_code == 200
        assert statements.count == 1, (path, statements.statements)
        # The one statement is the one that proves the credential alive.
        assert "EXISTS" in statements.statements[0].upper(), statements.statements


async def test_get_and_list_with_a_session_access_token_are_one_statement(
    client: httpx.AsyncClient, alice: Account, statements: StatementCounter
) -> None:
    note = await create_note(client)

    await assert_reads_are_one_statement(client, alice.headers, note["id"], statements)


async def test_get_and_list_with_a_personal_access_token_are_one_statement(
    client: httpx.AsyncClient, alice: Account, statements: StatementCounter
) -> None:
    note = await create_note(client)
    token = (await make_token(client, alice, scopes=["notes:read"]))["token"]

    await assert_reads_are_one_statement(client, bearer(token), note["id"], statements)


async def test_a_personal_access_token_is_looked_up_once_and_last_used_at_written_once_a_minute(
    client: httpx.AsyncClient, alice: Account, statements: StatementCounter, settings: Settings
) -> None:
    note = await create_note(client)
    token = (await make_token(client, alice, scopes=["notes:read"]))["token"]

    statements.reset()
    for _ in range(5):
        assert (await client.get(f"/notes/{note['id']}", headers=bearer(token))).status_code == 200

    # The lookup and one last_used_at write on first use, then one statement per request.
    assert statements.count == 2 + 5, statements.statements
    listed = (await client.get("/users/me/tokens")).json()["items"]
    assert listed[0]["last_used_at"] is not None
