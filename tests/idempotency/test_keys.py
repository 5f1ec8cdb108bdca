"""Idempotency keys on POST /notes and POST /notes/bulk (docs/api.md, "Idempotency keys")."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from notes_app.config import Settings
from notes_app.errors import ProblemError
from notes_app.idempotency.models import IdempotencyKey
from notes_app.idempotency.service import fingerprint_bytes, purge_expired_keys
from notes_app.notes import service
from notes_app.notes.models import Note
from notes_app.users.models import User
from tests.conftest import Account, api_client, assert_problem, note_payload, sign_up
from tests.users.accounts import bearer, make_token


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def test_the_same_key_and_body_replays_the_first_answer_and_writes_nothing(client: httpx.AsyncClient) -> None:
    first = await client.post("/notes", json=note_payload(), headers=keyed("k-1"))
    again = await client.post("/notes", json=note_payload(), headers=keyed("k-1"))

    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    for header in ("location", "etag", "content-type"):
        assert again.headers[header] == first.headers[header]
    assert await Note.all().count() == 1


async def test_a_replay_is_the_kept_answer_even_after_the_note_changed_or_went(client: httpx.AsyncClient) -> None:
    first = await client.post("/notes", json=note_payload(), headers=keyed("k"))
    note_id = first.json()["id"]
    await client.patch(f"/notes/{note_id}", json={"title": "changed"})
    await client.delete(f"/notes/{note_id}")

    again = await client.post("/notes", json=note_payload(), headers=keyed("k"))

    assert again.status_code == 201
    assert again.json() == first.json()
    assert await Note.all().count() == 1


async def test_requests_that_mean_the_same_are_the_same_request(client: httpx.AsyncClient) -> None:
    first = await client.post("/notes", json={"title": "a", "tags": ["x"]}, headers=keyed("k"))
    spelled_otherwise = await client.post(
        "/notes",
        content=b'{ "tags" : ["X"], "title": " a ", "body": "" }',
        headers={**keyed("k"), "Content-Type": "application/json"},
    )

    assert spelled_otherwise.headers["idempotent-replayed"] == "true"
    assert spelled_otherwise.json() == first.json()


async def test_the_same_key_with_another_body_is_422_and_writes_nothing(client: httpx.AsyncClient) -> None:
    await client.post("/notes", json=note_payload(title="first"), headers=keyed("k"))

    response = await client.post("/notes", json=note_payload(title="second"), headers=keyed("k"))

    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {"loc": ["header", "Idempotency-Key"], "msg": problem["detail"], "type": "idempotency_key_reused"}
    ]
    assert await Note.filter(title="second").count() == 0


@pytest.mark.parametrize(
    "key",
    ["", " ", "a b", "x" * 256, "caf\u00e9", "tab\there", "nul\x00", "bell\x07", "del\x7f"],
    ids=["empty", "space", "inner-space", "too-long", "non-ascii", "tab", "nul", "control", "del"],
)
async def test_an_invalid_key_is_422_and_writes_nothing(client: httpx.AsyncClient, key: str) -> None:
    # Sent as raw bytes (latin-1, as HTTP carries them): httpx would refuse to encode some of these.
    headers = {"Idempotency-Key": key.encode("latin-1")}
    for path, body in (("/notes", note_payload()), ("/notes/bulk", {"notes": [note_payload()]})):
        response = await client.post(path, json=body, headers=headers)
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await Note.all().count() == 0


async def test_a_key_of_255_visible_characters_is_accepted(client: httpx.AsyncClient) -> None:
    key = "".join(chr(33 + i % 94) for i in range(255))

    assert (await client.post("/notes", json=note_payload(), headers=keyed(key))).status_code == 201
    assert (await client.post("/notes", json=note_payload(), headers=keyed(key))).headers["idempotent-replayed"]


async def test_keys_belong_to_one_caller_and_one_endpoint(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    mine = await client.post("/notes", json=note_payload(), headers=keyed("shared"))
    bobs = await bob_client.post("/notes", json=note_payload(), headers=keyed("shared"))
    bulk = await client.post("/notes/bulk", json={"notes": [note_payload()]}, headers=keyed("shared"))

    for response in (mine, bobs, bulk):
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert await Note.all().count() == 3


async def test_a_bulk_create_with_a_key_is_replayed_whole(client: httpx.AsyncClient) -> None:
    body = {"notes": [note_payload(title=f"n{i}") for i in range(3)]}
    first = await client.post("/notes/bulk", json=body, headers=keyed("batch"))
    again = await client.post("/notes/bulk", json=body, headers=keyed("batch"))
    other = await client.post("/notes/bulk", json={"notes": body["notes"][:2]}, headers=keyed("batch"))

    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert_problem(other, 422)
    assert await Note.all().count() == 3


async def test_an_answer_that_is_not_a_success_is_not_kept(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_problem(await client.post("/notes", json={"title": ""}, headers=keyed("k")), 422)

    class Refused(ProblemError):
        status = 409

    async def refuse(**kwargs: Any) -> Note:
        raise Refused("not now")

    with monkeypatch.context() as patched:
        patched.setattr(service, "create_note", refuse)
        assert_problem(await client.post("/notes", json=note_payload(), headers=keyed("k")), 409)
    assert await IdempotencyKey.all().count() == 0  # the key's row went with the failed request

    response = await client.post("/notes", json=note_payload(title="corrected"), headers=keyed("k"))
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


class HeldCreate:
    """Holds every POST /notes inside its transaction (after the key is claimed) until released."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.original = service.create_note

    async def __call__(self, **kwargs: Any) -> Note:
        self.entered.set()
        await self.release.wait()
        return await self.original(**kwargs)


async def test_a_key_whose_first_request_is_still_running_is_409_with_retry_after(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, dialect: str
) -> None:
    if dialect == "sqlite":
        # Since the caller's credentials are checked by a query, every request on SQLite's one connection
        # waits for an open transaction: a second request cannot see the first one running (it waits,
        # then gets the replay), and holding the first inside its transaction would hold the second too.
        pytest.skip("on SQLite a request cannot run while another holds the transaction")
    held = HeldCreate()
    monkeypatch.setattr(service, "create_note", held)
    first = asyncio.create_task(client.post("/notes", json=note_payload(), headers=keyed("slow")))
    entered = asyncio.create_task(held.entered.wait())
    await asyncio.wait([first, entered], return_when=asyncio.FIRST_COMPLETED)
    assert not first.done(), first.result().text  # it is held inside its transaction, not answered

    second = await client.post("/notes", json=note_payload(), headers=keyed("slow"))
    held.release.set()
    answered = await first

    assert_problem(second, 409)
    assert int(second.headers["retry-after"]) >= 1
    assert answered.status_code == 201
    third = await client.post("/notes", json=note_payload(), headers=keyed("slow"))
    assert third.headers["idempotent-replayed"] == "true"
    assert third.json() == answered.json()
    assert await Note.all().count() == 1


async def test_a_revoked_credential_is_401_not_409_while_its_owners_key_runs(
    client: httpx.AsyncClient, alice: Account, monkeypatch: pytest.MonkeyPatch, dialect: str
) -> None:
    # The 409 comes before POST /notes' write, where the credential is proven alive: a revoked token of
    # the key's owner must not learn that the key is in use.
    if dialect == "sqlite":
        pytest.skip("on SQLite a request cannot run while another holds the transaction")
    token = await make_token(client, alice, scopes=["notes:read", "notes:write"])
    # Used first, so the app remembers its facts and takes its caller without a query.
    assert (await client.get("/notes", headers=bearer(token["token"]))).status_code == 200
    assert (await client.delete(f"/users/me/tokens/{token['id']}")).status_code == 204
    held = HeldCreate()
    monkeypatch.setattr(service, "create_note", held)
    first = asyncio.create_task(client.post("/notes", json=note_payload(), headers=keyed("slow")))
    entered = asyncio.create_task(held.entered.wait())
    await asyncio.wait([first, entered], return_when=asyncio.FIRST_COMPLETED)
    assert not first.done(), first.result().text

    revoked = await client.post("/notes", json=note_payload(), headers={**keyed("slow"), **bearer(token["token"])})
    held.release.set()

    assert_problem(revoked, 401)
    assert (await first).status_code == 201


async def test_20_concurrent_posts_with_one_key_create_one_note(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(
        *(client.post("/notes", json=note_payload(), headers=keyed("burst")) for _ in range(20))
    )

    assert {response.status_code for response in responses} <= {201, 409}
    created = [response for response in responses if response.status_code == 201]
    assert len([r for r in created if "idempotent-replayed" not in r.headers]) == 1
    assert len({response.content for response in created}) == 1
    assert await Note.all().count() == 1
    last = await client.post("/notes", json=note_payload(), headers=keyed("burst"))
    assert last.json() == created[0].json()


@pytest.fixture
async def short_lived_keys(settings: Settings, alice: Account) -> AsyncIterator[httpx.AsyncClient]:
    # Keys kept for 3.6 microseconds: expired before the next request can arrive on any machine.
    async with api_client(settings.model_copy(update={"idempotency_key_hours": 1e-9}), alice) as http:
        yield http


async def test_an_expired_key_is_forgotten(short_lived_keys: httpx.AsyncClient) -> None:
    first = await short_lived_keys.post("/notes", json=note_payload(title="first"), headers=keyed("k"))
    second = await short_lived_keys.post("/notes", json=note_payload(title="second"), headers=keyed("k"))

    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert await Note.all().count() == 2
    assert await IdempotencyKey.all().count() == 1  # the expired row gave way to the new one


async def test_the_purge_deletes_expired_keys_only(
    short_lived_keys: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    for i in range(5):
        await short_lived_keys.post("/notes", json=note_payload(), headers=keyed(f"old-{i}"))
    await client.post("/notes", json=note_payload(), headers=keyed("fresh"))

    assert await purge_expired_keys(batch_size=2) == 5

    assert await IdempotencyKey.all().values_list("key", flat=True) == ["fresh"]


async def test_a_deleted_accounts_keys_go_with_it(settings: Settings) -> None:
    carol = await sign_up(settings, "carol")
    async with api_client(settings, carol) as http:
        await http.post("/notes", json=note_payload(), headers=keyed("k"))

    await User.filter(id=carol.id).delete()

    assert await IdempotencyKey.all().count() == 0


def test_a_body_that_is_not_json_is_fingerprinted_by_its_bytes() -> None:
    assert fingerprint_bytes(b"PK\x03\x04 archive") == fingerprint_bytes(b"PK\x03\x04 archive")
    assert fingerprint_bytes(b"PK\x03\x04 archive") != fingerprint_bytes(b"PK\x03\x04 archivE")
