"""The hot reads stay one statement each, with the credential's liveness checked inside that statement.

Counted at the driver (tests/conftest.py `statements`), on both databases. A request's first use of a
credential in a process may cost more (a personal access token's lookup, a last_used_at write at most
once a minute): those are warmed up first, and proven bounded below.
"""

import httpx

from notes_app.config import Settings
from tests.conftest import Account, StatementCounter, create_note
from tests.users.accounts import bearer, make_token

# Every shape of list statement (notes_app/notes/compiled.py): filters, sorts, after a cursor, and the
# tag and text filters that take the ORM's statement.
LIST_PATHS = (
    "/notes",
    "/notes?pinned=true",
    "/notes?archived=true",
    "/notes?sort=created_at",
    "/notes?tag=work",
    "/notes?q=milk",
)


async def assert_reads_are_one_statement(
    client: httpx.AsyncClient, headers: dict[str, str], note_id: int, statements: StatementCounter
) -> None:
    second_page = (await client.get("/notes?limit=1", headers=headers)).json()["next_cursor"]
    assert second_page is not None
    for path in (f"/notes/{note_id}", *LIST_PATHS, f"/notes?limit=1&cursor={second_page}"):
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
    note = await create_note(client, tags=["work"], pinned=True)
    await create_note(client, archived=True)
    await create_note(client)

    await assert_reads_are_one_statement(client, alice.headers, note["id"], statements)


async def test_get_and_list_with_a_personal_access_token_are_one_statement(
    client: httpx.AsyncClient, alice: Account, statements: StatementCounter
) -> None:
    note = await create_note(client, tags=["work"], pinned=True)
    await create_note(client, archived=True)
    await create_note(client)
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


# The writes' fixed numbers, per database. PostgreSQL: POST, PATCH and PUT are one statement each (the
# note, found by id and owner for PATCH and PUT, its revision, the change feed's counter and stamp, the
# outbox events, NOTIFY, and the credential's liveness: notes_app/notes/postgres_writes.py). DELETE (to
# the trash) is the owned-note lookup and a transaction of the UPDATE and the change feed's statement.
# SQLite keeps a transaction of several statements for each (notes_app/sync/recorder.py).
WRITE_STATEMENTS = {
    "postgres": {"post": 1, "patch": 1, "put": 1, "delete": 5},
    # The liveness lookup or the owned note, BEGIN, the write, its revision (not for DELETE), the counter,
    # the stamp, the outbox's INSERT ... SELECT (aiosqlite's COMMIT is a method call, not a statement).
    "sqlite": {"post": 7, "patch": 7, "put": 7, "delete": 6},
}


async def test_writes_send_a_fixed_number_of_statements(
    client: httpx.AsyncClient, alice: Account, statements: StatementCounter, settings: Settings
) -> None:
    note = await create_note(client)  # warm-up: last_used_at is written once a minute at most
    expected = WRITE_STATEMENTS[settings.dialect]

    counted = {}
    statements.reset()
    assert (await client.post("/notes", json={"title": "another"})).status_code == 201
    counted["post"] = statements.count
    statements.reset()
    assert (await client.patch(f"/notes/{note['id']}", json={"body": "changed"})).status_code == 200
    counted["patch"] = statements.count
    statements.reset()
    assert (await client.put(f"/notes/{note['id']}", json={"title": "replaced"})).status_code == 200
    counted["put"] = statements.count
    statements.reset()
    assert (await client.delete(f"/notes/{note['id']}")).status_code == 204
    counted["delete"] = statements.count

    assert counted == expected, statements.statements


# PATCH and PUT that write nothing, on PostgreSQL: a no-op and a stale If-Match are answered from the
# row the write's one statement locked; only a statement that found no note costs a second (401 or 404?).
# On SQLite: the owned note, BEGIN, the UPDATE that matches nothing (none for an empty PATCH), and the
# read of the note; or the lookup that finds nothing and the credential's.
UNWRITTEN_STATEMENTS = {
    "postgres": {"no-op": 1, "empty": 1, "stale": 1, "missing": 2},
    "sqlite": {"no-op": 4, "empty": 3, "stale": 4, "missing": 2},
}


async def test_patches_that_write_nothing_send_a_fixed_number_of_statements(
    client: httpx.AsyncClient, alice: Account, statements: StatementCounter, settings: Settings
) -> None:
    note = await create_note(client)  # warm-up: last_used_at is written once a minute at most
    path = f"/notes/{note['id']}"
    stale = {"If-Match": f'"{note["id"]}-{note["version"] + 1}"'}
    requests = {
        "no-op": (path, {"title": note["title"]}, {}, 200),
        "empty": (path, {}, {}, 200),
        "stale": (path, {"title": "changed"}, stale, 412),
        "missing": ("/notes/2147483647", {"title": "changed"}, {}, 404),
    }

    counted = {}
    for name, (target, body, headers, status) in requests.items():
        statements.reset()
        assert (await client.patch(target, json=body, headers=headers)).status_code == status
        counted[name] = statements.count

    assert counted == UNWRITTEN_STATEMENTS[settings.dialect], statements.statements
