"""The input rules of the contract: every one can fail, and a failure writes nothing."""

import json
from typing import Any

import httpx
import pytest

from notes_app.notes.models import Note
from tests.conftest import assert_problem, create_note, note_payload


async def assert_rejected(client: httpx.AsyncClient, payload: dict[str, Any], loc: list[object]) -> None:
    problem = assert_problem(await client.post("/notes", json=payload), 422)
    assert loc in [error["loc"] for error in problem["errors"]]
    for error in problem["errors"]:
        assert set(error) == {"loc", "msg", "type"}
    assert await Note.all().count() == 0


@pytest.mark.parametrize(
    ("title", "stored"),
    [("a", "a"), ("x" * 200, "x" * 200), ("  padded  ", "padded"), (" " + "y" * 200 + "\t", "y" * 200)],
)
async def test_title_is_trimmed_then_1_to_200_characters(client: httpx.AsyncClient, title: str, stored: str) -> None:
    assert (await create_note(client, title=title))["title"] == stored


@pytest.mark.parametrize("title", ["", "   ", "\n\t", "x" * 201, 5, ["a"]])
async def test_bad_titles_are_422(client: httpx.AsyncClient, title: object) -> None:
    await assert_rejected(client, note_payload(title=title), ["body", "title"])


async def test_title_is_required(client: httpx.AsyncClient) -> None:
    await assert_rejected(client, {"body": "no title"}, ["body", "title"])


async def test_body_may_be_100000_characters_but_not_more(client: httpx.AsyncClient) -> None:
    assert len((await create_note(client, body="é" * 100_000))["body"]) == 100_000
    await Note.all().delete()
    await assert_rejected(client, note_payload(body="b" * 100_001), ["body", "body"])


@pytest.mark.parametrize(("field", "text"), [("title", "a\x00b"), ("body", "nul \x00 inside"), ("body", "\ud800")])
async def test_text_that_no_database_can_store_is_422(client: httpx.AsyncClient, field: str, text: str) -> None:
    # Sent as raw JSON: \u0000 and a lone surrogate are legal JSON escapes.
    content = json.dumps(note_payload(**{field: text}))
    problem = assert_problem(
        await client.post("/notes", content=content, headers={"content-type": "application/json"}), 422
    )
    assert ["body", field] in [error["loc"] for error in problem["errors"]]
    assert await Note.all().count() == 0


@pytest.mark.parametrize(
    ("tags", "stored"),
    [
        ([], []),
        (["b", "a", "c"], ["a", "b", "c"]),
        ([" Work ", "WORK", "work"], ["work"]),
        (["a-b", "c_d", "e/f", "x9"], ["a-b", "c_d", "e/f", "x9"]),
        (["Café", "CAFÉ", "café"], ["café"]),
        (["日本"], ["日本"]),
        (["t" * 50], ["t" * 50]),
        ([f"t{i}" for i in range(20)], sorted(f"t{i}" for i in range(20))),
    ],
)
async def test_tags_are_trimmed_lowercased_deduplicated_and_sorted(
    client: httpx.AsyncClient, tags: list[str], stored: list[str]
) -> None:
    assert (await create_note(client, tags=tags))["tags"] == stored


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "   ",
        "t" * 51,
        "has space",
        "dot.ted",
        "semi;colon",
        "emoji🎉",
        "#hash",
        "nul\x00",
        "cafe\u0301",  # a combining accent is not a letter: send the precomposed "café"
        7,
        None,
    ],
)
async def test_bad_tags_are_422(client: httpx.AsyncClient, tag: object) -> None:
    await assert_rejected(client, note_payload(tags=["ok", tag]), ["body", "tags", 1])


async def test_more_than_20_tags_is_422(client: httpx.AsyncClient) -> None:
    await assert_rejected(client, note_payload(tags=[f"t{i}" for i in range(21)]), ["body", "tags"])


async def test_tags_must_be_a_list(client: httpx.AsyncClient) -> None:
    await assert_rejected(client, note_payload(tags="home"), ["body", "tags"])


@pytest.mark.parametrize("value", ["true", 1, 0, "yes", None])
async def test_flags_must_be_json_booleans(client: httpx.AsyncClient, value: object) -> None:
    await assert_rejected(client, note_payload(pinned=value), ["body", "pinned"])


@pytest.mark.parametrize(
    "field",
    ["id", "version", "created_at", "updated_at", "owner", "owner_id", "colour"],
)
async def test_unknown_or_server_owned_fields_are_422_on_every_write(client: httpx.AsyncClient, field: str) -> None:
    await assert_rejected(client, note_payload(**{field: 1}), ["body", field])
    created = await create_note(client)
    for method in ("PUT", "PATCH"):
        response = await client.request(method, f"/notes/{created['id']}", json=note_payload(**{field: 1}))
        assert_problem(response, 422)
    assert (await client.get(f"/notes/{created['id']}")).json() == created


@pytest.mark.parametrize("body", [[], "a string", 42, None])
async def test_a_body_that_is_not_an_object_is_422(client: httpx.AsyncClient, body: object) -> None:
    assert_problem(await client.post("/notes", json=body), 422)
    assert await Note.all().count() == 0


async def test_patch_validates_like_create(client: httpx.AsyncClient) -> None:
    created = await create_note(client)
    for changes in ({"title": "  "}, {"tags": ["bad tag"]}, {"body": "b" * 100_001}, {"pinned": "true"}):
        assert_problem(await client.patch(f"/notes/{created['id']}", json=changes), 422)
    assert (await client.get(f"/notes/{created['id']}")).json() == created
