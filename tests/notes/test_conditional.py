"""ETag, If-None-Match and If-Match: no lost updates, even across processes."""

import asyncio

import httpx
import pytest

from notes_app.notes.models import Note
from tests.conftest import assert_problem, create_note, note_payload


def tag(note: dict[str, object]) -> str:
    return f'"{note["id"]}-{note["version"]}"'


@pytest.mark.parametrize("header", ["{current}", "W/{current}", "*", '"1-999", {current}'])
async def test_get_with_a_matching_if_none_match_is_304(client: httpx.AsyncClient, header: str) -> None:
    note = await create_note(client)

    response = await client.get(f"/notes/{note['id']}", headers={"If-None-Match": header.format(current=tag(note))})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag(note)


async def test_get_with_a_stale_if_none_match_is_the_note(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    stale = tag(note)
    changed = (await client.patch(f"/notes/{note['id']}", json={"pinned": True})).json()

    response = await client.get(f"/notes/{note['id']}", headers={"If-None-Match": stale})

    assert response.status_code == 200
    assert response.json() == changed
    assert response.headers["etag"] == tag(changed)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_matching_if_match_lets_the_write_through(client: httpx.AsyncClient, method: str) -> None:
    note = await create_note(client)

    response = await client.request(
        method, f"/notes/{note['id']}", json=note_payload(title="new"), headers={"If-Match": tag(note)}
    )

    assert response.status_code == (204 if method == "DELETE" else 200)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "if_match",
    [
        "stale",
        "W/{current}",
        '"999999-1"',
        "{id}-1",
        '"{id}-x"',
        "",
        '"{id}-1" junk',
        '"{id}-99999999999"',  # beyond the 32-bit version column: never sent to the database
        '"{id}-' + "9" * 5000 + '"',  # beyond what int() parses by default
    ],
)
async def test_an_if_match_that_does_not_match_is_412_with_the_current_etag_and_changes_nothing(
    client: httpx.AsyncClient, method: str, if_match: str
) -> None:
    note = await create_note(client)
    current = (await client.patch(f"/notes/{note['id']}", json={"pinned": True})).json()
    header = tag(note) if if_match == "stale" else if_match.format(current=tag(current), id=note["id"])

    response = await client.request(
        method, f"/notes/{note['id']}", json=note_payload(title="overwrite"), headers={"If-Match": header}
    )

    assert_problem(response, 412)
    assert response.headers["etag"] == tag(current)
    assert (await client.get(f"/notes/{note['id']}")).json() == current


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_if_match_star_matches_any_version(client: httpx.AsyncClient, method: str) -> None:
    note = await create_note(client)
    await client.patch(f"/notes/{note['id']}", json={"pinned": True})

    response = await client.request(method, f"/notes/{note['id']}", json={"title": "t"}, headers={"If-Match": "*"})

    assert response.status_code in {200, 204}


async def test_if_match_with_several_tags_matches_any_of_them(client: httpx.AsyncClient) -> None:
    note = await create_note(client)

    response = await client.patch(
        f"/notes/{note['id']}", json={"pinned": True}, headers={"If-Match": f'"{note["id"]}-7", {tag(note)}'}
    )

    assert response.status_code == 200


async def test_a_no_op_patch_with_a_matching_if_match_is_200_and_keeps_the_version(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client)

    response = await client.patch(
        f"/notes/{note['id']}", json={"title": note["title"]}, headers={"If-Match": tag(note)}
    )

    assert response.status_code == 200
    assert response.json() == note


async def test_a_no_op_patch_with_a_stale_if_match_is_still_412(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    current = (await client.patch(f"/notes/{note['id']}", json={"pinned": True})).json()

    response = await client.patch(f"/notes/{note['id']}", json={}, headers={"If-Match": tag(note)})

    assert_problem(response, 412)
    assert response.headers["etag"] == tag(current)


async def test_20_concurrent_patches_with_one_if_match_have_exactly_one_winner(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    headers = {"If-Match": tag(note)}

    responses = await asyncio.gather(
        *(client.patch(f"/notes/{note['id']}", json={"title": f"writer {i}"}, headers=headers) for i in range(20))
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * 19
    [winner] = [response.json() for response in responses if response.status_code == 200]
    stored = await Note.get(id=note["id"])
    assert (stored.version, stored.title) == (2, winner["title"])


async def test_20_concurrent_deletes_with_one_if_match_have_exactly_one_winner(client: httpx.AsyncClient) -> None:
    note = await create_note(client)

    responses = await asyncio.gather(
        *(client.delete(f"/notes/{note['id']}", headers={"If-Match": tag(note)}) for _ in range(20))
    )

    assert sorted(response.status_code for response in responses).count(204) == 1
    assert {response.status_code for response in responses} <= {204, 404}
    assert await Note.exists(id=note["id"], deleted_at__isnull=False)  # in the trash


async def test_15_concurrent_patches_of_five_fields_all_survive_and_count_once_each(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client, tags=[])
    changes = [{"title": "renamed"}, {"body": "new body"}, {"pinned": True}, {"archived": True}, {"tags": ["x"]}]

    responses = await asyncio.gather(*(client.patch(f"/notes/{note['id']}", json=c) for c in changes * 3))

    assert [response.status_code for response in responses] == [200] * 15
    stored = await Note.get(id=note["id"])
    assert (stored.title, stored.body, stored.pinned, stored.archived, stored.tags) == (
        "renamed",
        "new body",
        True,
        True,
        ["x"],
    )
    # Each field changed once; the two repeats of each change were no-ops and left the version alone.
    assert stored.version == 1 + len(changes)


async def test_an_if_match_with_a_non_ascii_digit_is_412(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    # "²" is a digit to str.isdigit() but not to int(); headers arrive as latin-1.
    header = f'"{note["id"]}-\xb2"'.encode("latin-1")

    response = await client.patch(f"/notes/{note['id']}", json={"pinned": True}, headers={"If-Match": header})

    assert_problem(response, 412)
