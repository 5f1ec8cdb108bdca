"""POST /import honours Idempotency-Key like POST /notes: a lost answer can be asked for again."""

import asyncio
from typing import Any

import httpx
import pytest

import notes_app.transfer.imports as imports
from tests.conftest import assert_problem
from tests.transfer.support import ZIP, make_zip, note_count

PATIENCE = 30
VAULT = make_zip({"a.md": "first", "dir/b.md": "second"})


def _key(key: str) -> dict[str, str]:
    return {**ZIP, "Idempotency-Key": key}


async def test_the_same_upload_with_the_same_key_is_answered_again_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post("/import", content=VAULT, headers=_key("import-1"))
    again = await client.post("/import", content=VAULT, headers=_key("import-1"))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await note_count() == 2


async def test_the_same_key_with_another_upload_is_422(client: httpx.AsyncClient) -> None:
    assert (await client.post("/import", content=VAULT, headers=_key("import-2"))).status_code == 201

    other = make_zip({"c.md": "another"})
    assert_problem(await client.post("/import", content=other, headers=_key("import-2")), 422)
    assert await note_count() == 2


async def test_a_refused_upload_does_not_use_up_its_key(client: httpx.AsyncClient) -> None:
    invalid = make_zip({"bad.md": "---\ntags: [not.valid]\n---\n"})
    assert_problem(await client.post("/import", content=invalid, headers=_key("import-3")), 422)

    response = await client.post("/import", content=VAULT, headers=_key("import-3"))

    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers


async def test_a_key_in_use_is_409_with_retry_after(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, dialect: str
) -> None:
    if dialect == "sqlite":
        # As for POST /notes (tests/idempotency/test_keys.py): SQLite runs one transaction at a time, so
        # holding the first import inside its transaction holds the second one's queries too.
        pytest.skip("on SQLite a request cannot run while another holds the transaction")
    writing, release = asyncio.Event(), asyncio.Event()
    write_notes = imports.write_notes

    async def held(**kwargs: Any) -> Any:
        writing.set()
        await release.wait()
        return await write_notes(**kwargs)

    monkeypatch.setattr(imports, "write_notes", held)
    first = asyncio.create_task(client.post("/import", content=VAULT, headers=_key("import-4")))
    try:
        await asyncio.wait_for(writing.wait(), PATIENCE)
        second = await asyncio.wait_for(client.post("/import", content=VAULT, headers=_key("import-4")), PATIENCE)
        problem = assert_problem(second, 409)
        assert second.headers["retry-after"].isdigit(), problem
    finally:
        release.set()
    assert (await asyncio.wait_for(first, PATIENCE)).status_code == 201
    assert await note_count() == 2


async def test_two_users_may_use_the_same_key(client: httpx.AsyncClient, bob_client: httpx.AsyncClient) -> None:
    mine = await client.post("/import", content=VAULT, headers=_key("shared"))
    theirs = await bob_client.post("/import", content=VAULT, headers=_key("shared"))

    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert await note_count() == 4


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there"])
async def test_a_malformed_key_is_422(client: httpx.AsyncClient, key: str) -> None:
    response = await client.post("/import", content=VAULT, headers={**ZIP, "Idempotency-Key": key})

    assert_problem(response, 422)
    assert await note_count() == 0


async def test_imported_notes_have_their_first_revision(client: httpx.AsyncClient) -> None:
    response = await client.post("/import", content=VAULT, headers=ZIP)

    for item in response.json()["items"]:
        revisions = await client.get(f"/notes/{item['id']}/revisions")
        assert revisions.status_code == 200
        [revision] = revisions.json()["items"]
        note = (await client.get(f"/notes/{item['id']}")).json()
        assert revision["version"] == 1
        assert (revision["title"], revision["body"], revision["created_at"]) == (
            note["title"],
            note["body"],
            note["updated_at"],
        )
