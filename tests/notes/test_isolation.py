"""Nobody can see, change or even detect another user's notes (OWASP API1: BOLA)."""

import httpx

from notes_app.notes.models import Note
from tests.conftest import Account, assert_problem, create_note, note_payload


async def attempts(client: httpx.AsyncClient, note_id: int) -> list[httpx.Response]:
    path = f"/notes/{note_id}"
    return [
        await client.get(path),
        await client.put(path, json=note_payload(title="taken over")),
        await client.patch(path, json={"title": "taken over"}),
        await client.delete(path),
    ]


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in {"date", "x-request-id"})
    return response.status_code, response.content, headers


async def test_another_users_note_answers_exactly_as_a_missing_one(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    note = await create_note(client)

    while_it_exists = await attempts(bob_client, note["id"])
    assert (await client.get(f"/notes/{note['id']}")).json() == note  # nothing changed
    await client.delete(f"/notes/{note['id']}")
    after_it_is_gone = await attempts(bob_client, note["id"])

    for response in while_it_exists:
        assert_problem(response, 404)
    assert [comparable(r) for r in while_it_exists] == [comparable(r) for r in after_it_is_gone]


async def test_lists_hold_only_the_callers_notes(client: httpx.AsyncClient, bob_client: httpx.AsyncClient) -> None:
    alices = [(await create_note(client, title=f"alice {i}"))["id"] for i in range(3)]
    bobs = [(await create_note(bob_client, title=f"bob {i}"))["id"] for i in range(2)]

    alice_sees = [n["id"] for n in (await client.get("/notes")).json()["items"]]
    bob_sees = [n["id"] for n in (await bob_client.get("/notes")).json()["items"]]

    assert sorted(alice_sees) == sorted(alices)
    assert sorted(bob_sees) == sorted(bobs)


async def test_another_users_cursor_is_refused(client: httpx.AsyncClient, bob_client: httpx.AsyncClient) -> None:
    for i in range(3):
        await create_note(client, title=f"alice {i}")
    await create_note(bob_client, title="bob")
    cursor = (await client.get("/notes", params={"limit": 1})).json()["next_cursor"]

    problem = assert_problem(await bob_client.get("/notes", params={"limit": 1, "cursor": cursor}), 422)

    assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_the_owner_comes_from_the_token_never_from_the_body(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    note = await create_note(client)

    assert (await Note.get(id=note["id"])).owner_id == alice.id
    for field in ("owner", "owner_id"):
        response = await client.post("/notes", json=note_payload(**{field: bob.id}))
        assert_problem(response, 422)
    assert await Note.filter(owner_id=bob.id).count() == 0


async def test_each_user_patches_only_their_own(client: httpx.AsyncClient, bob_client: httpx.AsyncClient) -> None:
    mine = await create_note(client)
    theirs = await create_note(bob_client)

    assert (await client.patch(f"/notes/{mine['id']}", json={"pinned": True})).status_code == 200
    assert_problem(await client.patch(f"/notes/{theirs['id']}", json={"pinned": True}), 404)
    assert (await bob_client.get(f"/notes/{theirs['id']}")).json() == theirs
