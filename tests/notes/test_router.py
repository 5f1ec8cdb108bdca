"""The note endpoints as the contract describes them (docs/api.md)."""

import asyncio
import re
from datetime import datetime

import httpx
import pytest

from notes_app.notes.models import Note
from notes_app.notes.schemas import NotePublic
from tests.conftest import assert_problem, create_note, note_payload

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def assert_note_shape(note: dict[str, object]) -> None:
    NotePublic.model_validate(note)  # the documented schema describes what is sent
    assert set(note) == {
        "id",
        "title",
        "body",
        "tags",
        "pinned",
        "archived",
        "version",
        "created_at",
        "updated_at",
    }
    assert TIMESTAMP.match(str(note["created_at"]))
    assert TIMESTAMP.match(str(note["updated_at"]))


async def test_create_returns_201_with_location_etag_and_the_normalised_note(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/notes", json={"title": "  Groceries \n", "body": "  milk \n", "tags": [" Home", "todo", "home"]}
    )

    assert response.status_code == 201
    note = response.json()
    assert_note_shape(note)
    assert response.headers["location"] == f"/notes/{note['id']}"
    assert response.headers["etag"] == f'"{note["id"]}-1"'
    assert note["title"] == "Groceries"
    assert note["body"] == "  milk \n"  # the body is stored byte for byte, never trimmed
    assert note["tags"] == ["home", "todo"]
    assert (note["pinned"], note["archived"], note["version"]) == (False, False, 1)
    assert note["created_at"] == note["updated_at"]


async def test_create_applies_defaults(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", json={"title": "only a title"})

    assert response.status_code == 201
    note = response.json()
    assert (note["body"], note["tags"], note["pinned"], note["archived"]) == ("", [], False, False)


async def test_body_round_trips_any_unicode_byte_for_byte(client: httpx.AsyncClient) -> None:
    body = "line one\r\nline two\n\ttab 🎉 ünïcödé 中文 \u200b trailing  "
    created = await create_note(client, body=body)

    fetched = (await client.get(f"/notes/{created['id']}")).json()

    assert fetched["body"] == body


async def test_get_returns_the_note_with_its_etag(client: httpx.AsyncClient) -> None:
    created = await create_note(client)

    response = await client.get(f"/notes/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == f'"{created["id"]}-1"'
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("note_id", ["0", "999999", "2147483648", "9999999999"])
async def test_get_of_a_missing_or_out_of_range_id_is_404(client: httpx.AsyncClient, note_id: str) -> None:
    problem = assert_problem(await client.get(f"/notes/{note_id}"), 404)
    assert problem["detail"] == f"note {note_id} does not exist"


@pytest.mark.parametrize("note_id", [str(2**63), str(10**30), "0" * 5000 + "1"])
async def test_an_id_longer_than_any_id_is_a_path_that_names_nothing(client: httpx.AsyncClient, note_id: str) -> None:
    # More than ten digits cannot be a 32-bit id: no route matches (notes_app/path_ids.py).
    assert_problem(await client.get(f"/notes/{note_id}"), 404)


@pytest.mark.parametrize("note_id", ["abc", "1.5", "1e3", "-1"])
async def test_a_path_that_is_not_a_note_id_is_404(client: httpx.AsyncClient, note_id: str) -> None:
    assert_problem(await client.get(f"/notes/{note_id}"), 404)


async def test_put_replaces_and_resets_omitted_optionals(client: httpx.AsyncClient) -> None:
    created = await create_note(client, pinned=True, archived=True)

    response = await client.put(f"/notes/{created['id']}", json={"title": " New title "})

    assert response.status_code == 200
    note = response.json()
    assert_note_shape(note)
    assert note["title"] == "New title"
    assert (note["body"], note["tags"], note["pinned"], note["archived"]) == ("", [], False, False)
    assert note["version"] == 2
    assert note["created_at"] == created["created_at"]
    assert note["updated_at"] > created["updated_at"]
    assert response.headers["etag"] == f'"{created["id"]}-2"'
    assert (await client.get(f"/notes/{created['id']}")).json() == note


async def test_put_with_the_same_content_changes_nothing(client: httpx.AsyncClient) -> None:
    created = await create_note(client)

    response = await client.put(f"/notes/{created['id']}", json=note_payload())

    assert response.status_code == 200
    assert response.json() == created


async def test_put_requires_a_title(client: httpx.AsyncClient) -> None:
    created = await create_note(client)

    problem = assert_problem(await client.put(f"/notes/{created['id']}", json={"body": "x"}), 422)

    assert problem["errors"][0]["loc"] == ["body", "title"]


async def test_put_of_a_missing_note_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.put("/notes/424242", json=note_payload()), 404)


async def test_patch_changes_only_the_given_fields_and_bumps_version(client: httpx.AsyncClient) -> None:
    created = await create_note(client)

    response = await client.patch(f"/notes/{created['id']}", json={"pinned": True, "tags": ["Work"]})

    assert response.status_code == 200
    note = response.json()
    assert note == {
        **created,
        "pinned": True,
        "tags": ["work"],
        "version": 2,
        "updated_at": note["updated_at"],
    }
    assert note["updated_at"] > created["updated_at"]
    assert response.headers["etag"] == f'"{created["id"]}-2"'


@pytest.mark.parametrize(
    "changes",
    [{}, {"title": "Groceries"}, {"title": "  Groceries  "}, {"tags": ["TODO", "home"]}, {"pinned": False}],
)
async def test_a_no_op_patch_leaves_version_and_updated_at_alone(
    client: httpx.AsyncClient, changes: dict[str, object]
) -> None:
    created = await create_note(client)

    response = await client.patch(f"/notes/{created['id']}", json=changes)

    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == f'"{created["id"]}-1"'


@pytest.mark.parametrize("field", ["title", "body", "tags", "pinned", "archived"])
async def test_patch_with_null_is_422_and_changes_nothing(client: httpx.AsyncClient, field: str) -> None:
    created = await create_note(client)

    problem = assert_problem(await client.patch(f"/notes/{created['id']}", json={field: None}), 422)

    assert problem["errors"][0]["loc"] == ["body", field]
    assert (await client.get(f"/notes/{created['id']}")).json() == created


async def test_patch_of_a_missing_note_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.patch("/notes/424242", json={"pinned": True}), 404)


async def test_each_real_change_bumps_version_once(client: httpx.AsyncClient) -> None:
    created = await create_note(client)
    for expected_version, pinned in [(2, True), (3, False), (4, True)]:
        response = await client.patch(f"/notes/{created['id']}", json={"pinned": pinned})
        assert response.json()["version"] == expected_version


async def test_concurrent_patches_of_different_fields_all_survive(client: httpx.AsyncClient) -> None:
    created = await create_note(client, tags=[])
    changes = [
        {"title": "renamed"},
        {"body": "new body"},
        {"pinned": True},
        {"archived": True},
        {"tags": ["x"]},
    ]

    responses = await asyncio.gather(*(client.patch(f"/notes/{created['id']}", json=c) for c in changes))

    assert [r.status_code for r in responses] == [200] * len(changes)
    note = (await client.get(f"/notes/{created['id']}")).json()
    assert (note["title"], note["body"], note["pinned"], note["archived"], note["tags"]) == (
        "renamed",
        "new body",
        True,
        True,
        ["x"],
    )
    assert note["version"] == 1 + len(changes)


async def test_delete_is_204_then_the_note_is_gone_to_the_trash(client: httpx.AsyncClient) -> None:
    created = await create_note(client)

    response = await client.delete(f"/notes/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(f"/notes/{created['id']}"), 404)
    assert_problem(await client.delete(f"/notes/{created['id']}"), 404)
    assert await Note.filter(id=created["id"], deleted_at__isnull=False).count() == 1  # kept, in the trash


async def test_ids_are_never_reused_after_a_delete(client: httpx.AsyncClient) -> None:
    first = await create_note(client)
    await client.delete(f"/notes/{first['id']}")

    second = await create_note(client)

    assert second["id"] > first["id"]


async def test_timestamps_are_stored_in_utc_with_microseconds(client: httpx.AsyncClient) -> None:
    created = await create_note(client)

    stored = await Note.get(id=created["id"])

    assert stored.created_at.utcoffset() is not None
    assert stored.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    sent = datetime.fromisoformat(created["created_at"].replace("Z", "+00:00"))
    assert stored.created_at == sent
