"""Revisions (docs/api.md, "Revisions"): every version a client was answered with is in the history, once."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from notes_app.config import Settings
from notes_app.notes import changes
from notes_app.notes.models import Note, NoteRevision
from notes_app.notes.revisions import PRUNE_EVERY
from notes_app.users.models import User
from tests.conftest import Account, api_client, assert_problem, create_note, note_payload, sign_up


async def history(client: httpx.AsyncClient, note_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/notes/{note_id}/revisions", params={"limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def as_revision(note: dict[str, Any]) -> dict[str, Any]:
    """The revision a note's answer promises: its state at that version."""
    fields = ("version", "title", "body", "tags", "pinned", "archived")
    return {**{field: note[field] for field in fields}, "created_at": note["updated_at"]}


async def test_a_new_note_has_its_first_version_in_the_history(client: httpx.AsyncClient) -> None:
    note = await create_note(client, pinned=True)

    assert await history(client, note["id"]) == [as_revision(note)]
    response = await client.get(f"/notes/{note['id']}/revisions/1")
    assert response.status_code == 200
    assert response.json() == as_revision(note)


async def test_every_write_path_leaves_its_version_newest_first(client: httpx.AsyncClient) -> None:
    answers = [await create_note(client)]
    note_id = answers[0]["id"]
    answers.append((await client.patch(f"/notes/{note_id}", json={"title": "patched"})).json())
    answers.append((await client.put(f"/notes/{note_id}", json=note_payload(title="put", tags=[]))).json())
    assert (await client.delete(f"/notes/{note_id}")).status_code == 204
    answers.append((await client.post(f"/trash/{note_id}/restore")).json())
    answers.append((await client.post(f"/notes/{note_id}/revisions/1/restore")).json())

    assert [answer["version"] for answer in answers] == [1, 2, 3, 4, 5]
    assert await history(client, note_id) == [as_revision(answer) for answer in reversed(answers)]


async def test_a_bulk_create_gives_each_note_its_first_revision(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes/bulk", json={"notes": [note_payload(title=f"n{i}") for i in range(3)]})

    for note in response.json()["items"]:
        assert await history(client, note["id"]) == [as_revision(note)]


async def test_a_no_op_writes_no_revision(client: httpx.AsyncClient) -> None:
    note = await create_note(client)

    await client.patch(f"/notes/{note['id']}", json={"title": note["title"], "tags": note["tags"]})
    await client.post(f"/notes/{note['id']}/revisions/1/restore")

    assert await NoteRevision.filter(note_id=note["id"]).count() == 1


async def test_20_concurrent_patches_leave_versions_1_to_21_in_the_history_exactly_once(
    client: httpx.AsyncClient,
) -> None:
    note = await create_note(client)

    responses = await asyncio.gather(
        *(client.patch(f"/notes/{note['id']}", json={"body": f"writer {i}"}) for i in range(20))
    )

    assert [response.status_code for response in responses] == [200] * 20
    answers = [response.json() for response in responses]
    assert sorted(answer["version"] for answer in answers) == list(range(2, 22))
    stored = await NoteRevision.filter(note_id=note["id"]).order_by("version").values_list("version", flat=True)
    assert stored == list(range(1, 22))  # no gap, none twice
    kept = {revision["version"]: revision for revision in await history(client, note["id"])}
    for answer in answers:  # the history holds exactly the state each client was answered with
        assert kept[answer["version"]] == as_revision(answer)


@pytest.fixture
async def keeps_three(settings: Settings, alice: Account) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings.model_copy(update={"revisions_per_note": 3}), alice) as http:
        yield http


async def test_only_the_newest_revisions_per_note_are_kept(keeps_three: httpx.AsyncClient) -> None:
    client = keeps_three
    note = await create_note(client)
    for i in range(2 * PRUNE_EVERY + 3):
        assert (await client.patch(f"/notes/{note['id']}", json={"body": f"v{i}"})).status_code == 200
    current = 2 * PRUNE_EVERY + 4

    assert [revision["version"] for revision in await history(client, note["id"])] == [
        current,
        current - 1,
        current - 2,
    ]
    assert (await client.get(f"/notes/{note['id']}/revisions/{current - 2}")).status_code == 200
    for dropped in (current - 3, 1):
        assert_problem(await client.get(f"/notes/{note['id']}/revisions/{dropped}"), 404)
        assert_problem(await client.get(f"/notes/{note['id']}/revisions/{dropped}/diff"), 404)
        assert_problem(await client.post(f"/notes/{note['id']}/revisions/{dropped}/restore"), 404)
    # Dropped rows are deleted in batches: never more than a batch beyond what is kept.
    assert await NoteRevision.filter(note_id=note["id"]).count() < 3 + PRUNE_EVERY


async def test_revisions_page_newest_first_with_a_cursor_for_this_note_only(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    note = await create_note(client)
    other = await create_note(client)
    for i in range(4):
        await client.patch(f"/notes/{note['id']}", json={"body": f"v{i}"})
        await client.patch(f"/notes/{other['id']}", json={"body": f"v{i}"})

    versions: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"/notes/{note['id']}/revisions", params=params)).json()
        versions += [revision["version"] for revision in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert versions == [5, 4, 3, 2, 1]

    cursor = (await client.get(f"/notes/{note['id']}/revisions", params={"limit": 2})).json()["next_cursor"]
    assert_problem(await client.get(f"/notes/{other['id']}/revisions", params={"cursor": cursor}), 422)
    assert_problem(await client.get("/trash", params={"cursor": cursor}), 422)
    assert_problem(await client.get(f"/notes/{note['id']}/revisions", params={"cursor": cursor + "x"}), 422)
    assert_problem(await client.get(f"/notes/{note['id']}/revisions", params={"limit": 0}), 422)


async def test_another_users_or_a_missing_notes_history_is_404(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    bobs = await create_note(bob_client)

    for note_id in (bobs["id"], 0, 2**31, 2**63):
        assert_problem(await client.get(f"/notes/{note_id}/revisions"), 404)
        assert_problem(await client.get(f"/notes/{note_id}/revisions/1"), 404)
        assert_problem(await client.get(f"/notes/{note_id}/revisions/1/diff"), 404)
        assert_problem(await client.post(f"/notes/{note_id}/revisions/1/restore"), 404)
    assert (await bob_client.get(f"/notes/{bobs['id']}")).json()["version"] == 1


@pytest.mark.parametrize("version", ["0", "3", "2147483648", "9223372036854775808", "-1", "x"])
async def test_a_version_that_is_not_kept_is_404(client: httpx.AsyncClient, version: str) -> None:
    note = await create_note(client)
    await client.patch(f"/notes/{note['id']}", json={"body": "2"})

    assert_problem(await client.get(f"/notes/{note['id']}/revisions/{version}"), 404)
    assert_problem(await client.get(f"/notes/{note['id']}/revisions/{version}/diff"), 404)
    assert_problem(await client.post(f"/notes/{note['id']}/revisions/{version}/restore"), 404)
    assert (await client.get(f"/notes/{note['id']}")).json()["version"] == 2


async def test_the_diff_is_unified_text_from_a_version_to_the_current_one(client: httpx.AsyncClient) -> None:
    note = await create_note(client, title="Groceries", body="milk\neggs\n")
    await client.patch(f"/notes/{note['id']}", json={"body": "milk\nbread\n"})

    response = await client.get(f"/notes/{note['id']}/revisions/1/diff")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == f"--- note-{note['id']}/v1/body"
    assert lines[1] == f"+++ note-{note['id']}/v2/body"
    assert lines[2].startswith("@@")
    assert lines[3:] == [" milk", "-eggs", "+bread"]  # the title did not change: no part for it


async def test_the_diff_goes_to_any_kept_version_and_marks_a_missing_last_newline(client: httpx.AsyncClient) -> None:
    note = await create_note(client, title="one", body="a")
    await client.patch(f"/notes/{note['id']}", json={"title": "two", "body": "b"})
    await client.patch(f"/notes/{note['id']}", json={"title": "three"})

    diff = (await client.get(f"/notes/{note['id']}/revisions/2/diff", params={"to": 1})).text

    assert diff.splitlines() == [
        f"--- note-{note['id']}/v2/title",
        f"+++ note-{note['id']}/v1/title",
        "@@ -1 +1 @@",
        "-two",
        "\\ No newline at end of file",
        "+one",
        "\\ No newline at end of file",
        f"--- note-{note['id']}/v2/body",
        f"+++ note-{note['id']}/v1/body",
        "@@ -1 +1 @@",
        "-b",
        "\\ No newline at end of file",
        "+a",
        "\\ No newline at end of file",
    ]
    assert (await client.get(f"/notes/{note['id']}/revisions/2/diff", params={"to": 2})).text == ""


@pytest.mark.parametrize("to", ["0", "-1", "4", "2147483648", "99999999999999999999"])
async def test_a_diff_to_a_version_that_is_not_kept_is_404(client: httpx.AsyncClient, to: str) -> None:
    note = await create_note(client)
    await client.patch(f"/notes/{note['id']}", json={"body": "2"})
    await client.patch(f"/notes/{note['id']}", json={"body": "3"})

    assert_problem(await client.get(f"/notes/{note['id']}/revisions/1/diff", params={"to": to}), 404)


async def test_a_diff_to_something_that_is_not_a_version_is_422(client: httpx.AsyncClient) -> None:
    note = await create_note(client)

    assert_problem(await client.get(f"/notes/{note['id']}/revisions/1/diff", params={"to": "x"}), 422)


async def test_restoring_a_revision_sets_its_content_as_a_new_version(client: httpx.AsyncClient) -> None:
    first = await create_note(client, title="first", tags=["a"], pinned=True)
    await client.put(f"/notes/{first['id']}", json=note_payload(title="second", tags=["b"], archived=True))

    response = await client.post(f"/notes/{first['id']}/revisions/1/restore")

    assert response.status_code == 200
    restored = response.json()
    assert restored["version"] == 3
    assert response.headers["etag"] == f'"{first["id"]}-3"'
    fields = ("title", "body", "tags", "pinned", "archived", "created_at")
    assert {field: restored[field] for field in fields} == {field: first[field] for field in fields}
    assert (await history(client, first["id"]))[0] == as_revision(restored)


async def test_restoring_a_revision_honours_if_match(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    await client.patch(f"/notes/{note['id']}", json={"title": "second"})
    path = f"/notes/{note['id']}/revisions/1/restore"

    stale = await client.post(path, headers={"If-Match": f'"{note["id"]}-1"'})
    assert_problem(stale, 412)
    assert stale.headers["etag"] == f'"{note["id"]}-2"'
    assert (await Note.get(id=note["id"])).title == "second"

    current = await client.post(path, headers={"If-Match": f'"{note["id"]}-2"'})
    assert current.status_code == 200
    assert current.json()["title"] == note["title"]


async def test_a_change_whose_revision_cannot_be_written_is_not_made(
    settings: Settings,
    alice: Account,
    monkeypatch: pytest.MonkeyPatch,
    refuse_revisions: Callable[[], Awaitable[None]],
) -> None:
    async def broken(**kwargs: Any) -> None:
        raise RuntimeError("the revision could not be written")

    async with api_client(settings, alice, raise_app_exceptions=False) as http:
        note = await create_note(http, title="first")
        await http.patch(f"/notes/{note['id']}", json={"title": "second"})
        monkeypatch.setattr(changes, "write_revisions", broken)
        if settings.dialect == "postgres":
            # POST and PATCH write their revision inside their one statement (notes_app/notes/postgres_writes.py):
            # the database refuses it there.
            await refuse_revisions()
        patched = await http.patch(f"/notes/{note['id']}", json={"title": "lost"})
        created = await http.post("/notes", json=note_payload(title="lost"))
        bulk = await http.post("/notes/bulk", json={"notes": [note_payload(title="lost")]})
        restored = await http.post(f"/notes/{note['id']}/revisions/1/restore")

    assert [r.status_code for r in (patched, created, bulk, restored)] == [500] * 4
    stored = await Note.get(id=note["id"])
    assert (stored.title, stored.version) == ("second", 2)  # the changes went with their revisions
    assert await Note.all().count() == 1


@pytest.fixture
async def refuse_revisions(settings: Settings) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Makes PostgreSQL refuse every revision from then on, until the test ends."""

    async def refuse() -> None:
        await Note._meta.db.execute_script(
            """CREATE FUNCTION refuse_revision() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the revision could not be written'; END $$;
            CREATE TRIGGER refuse_revision BEFORE INSERT ON note_revision
                FOR EACH ROW EXECUTE FUNCTION refuse_revision();"""
        )

    yield refuse
    if settings.dialect == "postgres":
        await Note._meta.db.execute_script(
            "DROP TRIGGER IF EXISTS refuse_revision ON note_revision; DROP FUNCTION IF EXISTS refuse_revision();"
        )


async def test_a_deleted_accounts_history_goes_with_it(settings: Settings) -> None:
    carol = await sign_up(settings, "carol")
    async with api_client(settings, carol) as http:
        note = await create_note(http)
        await http.patch(f"/notes/{note['id']}", json={"title": "second"})

    await User.filter(id=carol.id).delete()

    assert not await NoteRevision.exists(note_id=note["id"])
