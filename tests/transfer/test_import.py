"""POST /import: files as our export and other tools write them, all or nothing."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tortoise.backends.base.client import TransactionalDBClient

from notes_app.notes.models import Note
from tests.conftest import Account, assert_problem
from tests.transfer.support import ZIP, all_notes, import_zip, make_zip, note_count

OBSIDIAN_VAULT: dict[str, bytes | str] = {
    ".obsidian/app.json": '{"legacyEditor": false}',
    ".obsidian/workspace.json": "{}",
    "Welcome.md": "This is your new *vault*.\n",
    "Projects/Website/Launch plan.md": (
        '---\ntags:\n  - project\n  - "#web/launch"\naliases: [launch]\ncreated: 2024-01-31T10:00\n---\n'
        "- [ ] buy domain\n"
    ),
    "Daily/2024-02-01.md": "---\ntags: daily, Journal\n---\n# Thursday\nslept well\n",
    "Attachments/photo.png": b"\x89PNG\r\n\x1a\n fake image",
    "Templates/Empty front matter.md": "---\n---\nbody only\n",
}

JOPLIN_EXPORT: dict[str, bytes | str] = {
    "Reference/Frogs.md": (
        "---\ntitle: Frogs\nsource: https://en.wikipedia.org/wiki/Frog\ncreated: 2021-05-01 16:40:00Z\n"
        "updated: 2021-05-01 16:41:00Z\ntags:\n  - Reference\n  - Cool\n---\n\nThis article is about amphibians.\n"
    ),
    "School/Math/Take Home Quiz.md": (
        "---\ntitle: Take Home Quiz\ncreated: 1970-01-01 00:00Z\nupdated: 2021-06-17 23:59:00Z\ntags:\n"
        "  - school\n  - math\ncompleted?: no\ndue: 2021-06-18 08:00:00Z\nlatitude: 37.084021\n"
        "longitude: -94.51350100\naltitude: 0.0000\nauthor: Joplin\n---\n\n**Prove it.**\n"
    ),
    "_resources/a1b2c3.png": b"\x89PNG fake",
    "School/_notebook.yml": "icon:\n  type: emoji\n  emoji: x\n",
}


def _by_title(notes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {note["title"]: note for note in notes}


async def test_an_obsidian_vault_imports_with_folders_tags_and_titles_from_file_names(
    client: httpx.AsyncClient,
) -> None:
    response = await import_zip(client, OBSIDIAN_VAULT)

    assert response.status_code == 201, response.text
    summary = response.json()
    assert summary["created"] == 4
    assert [item["file"] for item in summary["items"]] == [
        "Welcome.md",
        "Projects/Website/Launch plan.md",
        "Daily/2024-02-01.md",
        "Templates/Empty front matter.md",
    ]
    assert {skipped["file"] for skipped in summary["skipped"]} == {
        ".obsidian/app.json",
        ".obsidian/workspace.json",
        "Attachments/photo.png",
    }
    notes = _by_title(await all_notes(client))
    assert notes["Welcome"]["body"] == "This is your new *vault*.\n"
    launch = notes["Launch plan"]
    assert launch["tags"] == ["project", "web/launch"]
    assert launch["body"] == "- [ ] buy domain\n"
    assert launch["created_at"] == launch["updated_at"] == "2024-01-31T10:00:00.000000Z"
    # The first `# ` heading is the title when the front matter has none, and stays in the body.
    daily = notes["Thursday"]
    assert daily["tags"] == ["daily", "journal"]
    assert daily["body"] == "# Thursday\nslept well\n"
    assert notes["Empty front matter"]["body"] == "body only\n"
    ids = {item["file"]: item["id"] for item in summary["items"]}
    assert ids["Welcome.md"] == notes["Welcome"]["id"]
    assert ids["Daily/2024-02-01.md"] == notes["Thursday"]["id"]


async def test_a_joplin_markdown_front_matter_export_imports_with_its_times_and_tags(
    client: httpx.AsyncClient,
) -> None:
    response = await import_zip(client, JOPLIN_EXPORT)

    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2
    assert response.json()["renamed_tags"] == []
    assert {skipped["file"] for skipped in response.json()["skipped"]} == {
        "_resources/a1b2c3.png",
        "School/_notebook.yml",
    }
    notes = _by_title(await all_notes(client))
    frogs = notes["Frogs"]
    assert frogs["tags"] == ["cool", "reference"]
    assert frogs["created_at"] == "2021-05-01T16:40:00.000000Z"
    assert frogs["updated_at"] == "2021-05-01T16:41:00.000000Z"
    # Everything after the front matter, byte for byte: Joplin's blank line included.
    assert frogs["body"] == "\nThis article is about amphibians.\n"
    quiz = notes["Take Home Quiz"]
    assert quiz["created_at"] == "1970-01-01T00:00:00.000000Z"
    assert quiz["updated_at"] == "2021-06-17T23:59:00.000000Z"
    assert quiz["tags"] == ["math", "school"]


async def test_tags_with_white_space_are_imported_with_a_hyphen_and_listed(client: httpx.AsyncClient) -> None:
    # Joplin allows spaces in tags; a note's tag holds letters, digits, `-`, `_` and `/`.
    files = {
        "Work/Plan.md": '---\ntitle: Plan\ntags:\n  - work project\n  - Work  Project\n  - "#road - map"\n'
        "  - plain\n---\nbody",
        "Other.md": "---\ntags: work project, Q3\u00a0goals\n---\nx",
    }

    response = await import_zip(client, files)

    assert response.status_code == 201, response.text
    assert response.json()["renamed_tags"] == [
        {"tag": "#road - map", "imported_as": "road-map"},  # as in the file
        {"tag": "Q3\u00a0goals", "imported_as": "q3-goals"},
        {"tag": "Work  Project", "imported_as": "work-project"},
        {"tag": "work project", "imported_as": "work-project"},
    ]
    notes = _by_title(await all_notes(client))
    assert notes["Plan"]["tags"] == ["plain", "road-map", "work-project"]
    assert notes["Other"]["tags"] == ["q3-goals", "work-project"]


@pytest.mark.parametrize("tags", ['["#", a]', '"a, #,, b ,"', '[" ", a, ""]', '"# , a"'])
async def test_an_empty_tag_entry_or_a_lone_hash_names_no_tag(client: httpx.AsyncClient, tags: str) -> None:
    response = await import_zip(client, {"note.md": f"---\ntitle: T\ntags: {tags}\n---\nbody"})

    assert response.status_code == 201, response.text
    assert response.json()["renamed_tags"] == []
    assert (await all_notes(client))[0]["tags"] == (["a", "b"] if "b" in tags else ["a"])


async def test_a_tag_still_invalid_once_its_spaces_are_hyphens_is_422_and_nothing_is_written(
    client: httpx.AsyncClient,
) -> None:
    response = await import_zip(
        client, {"fine.md": "---\ntags: [a b]\n---\n", "bad.md": "---\ntags: [C++ code]\n---\n"}
    )

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"][:3] == ["body", "bad.md", "tags"]
    assert await note_count() == 0


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-11-24T23:40:00.123456Z", "2026-11-24T23:40:00.123456Z"),
        ('"2026-11-24T23:40:00Z"', "2026-11-24T23:40:00.000000Z"),
        ("2026-11-25T01:40:00+02:00", "2026-11-24T23:40:00.000000Z"),
        ("2026-11-24 23:40", "2026-11-24T23:40:00.000000Z"),
        ("2026-11-24", "2026-11-24T00:00:00.000000Z"),
        ("2026/11/24 23:40:00", "2026-11-24T23:40:00.000000Z"),
        ('"Tue, 24 Nov 2026 23:40:00 +0000"', "2026-11-24T23:40:00.000000Z"),
    ],
)
async def test_common_timestamp_forms_are_read_and_updated_defaults_to_created(
    client: httpx.AsyncClient, written: str, expected: str
) -> None:
    response = await import_zip(client, {"a.md": f"---\ncreated: {written}\n---\nbody"})

    assert response.status_code == 201, response.text
    [note] = await all_notes(client)
    assert note["created_at"] == note["updated_at"] == expected


async def test_timestamps_next_to_the_first_and_last_instants_are_kept_and_listed(client: httpx.AsyncClient) -> None:
    front_matter = "---\ncreated: 0001-01-01T00:00:00.000001Z\nupdated: 9999-12-31T23:59:59.999998Z\n---\n"

    assert (await import_zip(client, {"a.md": front_matter + "body"})).status_code == 201

    [note] = await all_notes(client)
    assert note["created_at"] == "0001-01-01T00:00:00.000001Z"
    assert note["updated_at"] == "9999-12-31T23:59:59.999998Z"
    assert (await client.get(f"/notes/{note['id']}")).status_code == 200


async def test_without_timestamps_a_note_is_created_now(client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    response = await import_zip(client, {"a.md": "plain"})
    after = datetime.now(UTC)

    assert response.status_code == 201
    [note] = await all_notes(client)
    created = datetime.fromisoformat(note["created_at"])
    assert before <= created <= after
    assert note["updated_at"] == note["created_at"]


async def test_front_matter_title_wins_over_heading_and_file_name(client: httpx.AsyncClient) -> None:
    response = await import_zip(
        client,
        {
            "dir/file name.markdown": "---\ntitle: From front matter\n---\n# From heading\n",
            "dir/other.txt": "no heading here\n## a level-two heading\n",
            "dir/blank title.md": "---\ntitle: '   '\n---\n#  Heading title  ##\nbody\n",
            "dir/numbers.md": "---\ntitle: 2024\npinned: yes\narchived: true\n---\n",
        },
    )

    assert response.status_code == 201, response.text
    notes = _by_title(await all_notes(client))
    assert set(notes) == {"From front matter", "other", "Heading title", "2024"}
    assert notes["From front matter"]["body"] == "# From heading\n"
    assert notes["2024"]["pinned"] is True
    assert notes["2024"]["archived"] is True


async def test_one_markdown_file_is_a_note_named_by_its_content_disposition(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/import",
        content=b"Just text, with CRLF\r\n",
        headers={
            "Content-Type": "text/markdown; charset=utf-8",
            "Content-Disposition": "attachment; filename*=UTF-8''Caf%C3%A9%20list.md",
        },
    )

    assert response.status_code == 201, response.text
    assert response.json()["items"][0]["file"] == "Café list.md"
    [note] = await all_notes(client)
    assert note["title"] == "Café list"
    assert note["body"] == "Just text, with CRLF\r\n"


async def test_one_markdown_file_without_a_name_is_note_md(client: httpx.AsyncClient) -> None:
    response = await client.post("/import", content=b"# Title\nbody", headers={"Content-Type": "text/markdown"})

    assert response.status_code == 201
    assert response.json()["items"] == [{"file": "note.md", "id": response.json()["items"][0]["id"]}]
    assert response.json()["skipped"] == []


async def test_a_byte_order_mark_is_not_part_of_the_note(client: httpx.AsyncClient) -> None:
    response = await import_zip(client, {"bom.md": "\ufeff---\ntitle: BOM\n---\nbody".encode()})

    assert response.status_code == 201
    [note] = await all_notes(client)
    assert (note["title"], note["body"]) == ("BOM", "body")


async def test_dashes_that_are_not_front_matter_stay_in_the_body(client: httpx.AsyncClient) -> None:
    body = "---\nJust a rule above and below\n---\ntext\n"
    response = await import_zip(client, {"rules.md": body})

    assert response.status_code == 201, response.text
    [note] = await all_notes(client)
    assert note["body"] == body
    assert note["title"] == "rules"


async def test_imports_many_notes_in_batches_with_each_file_given_its_own_id(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notes_app.notes.bulk_insert as bulk_insert

    statements: list[str] = []
    compile_statement = bulk_insert._insert_statement

    def counting(*args: Any) -> str:
        statements.append(sql := compile_statement(*args))
        return sql

    monkeypatch.setattr(bulk_insert, "_insert_statement", counting)
    files: dict[str, bytes | str] = {f"n/{n:04}.md": f"---\ntitle: note {n}\n---\nbody {n}" for n in range(1_201)}

    response = await import_zip(client, files)

    assert response.status_code == 201, response.text
    assert len(statements) == 3  # 500 + 500 + 201: one INSERT per batch, not one per note
    items = response.json()["items"]
    assert len(items) == 1_201
    titles = dict(await Note.filter(id__in=[item["id"] for item in items]).values_list("id", "title"))
    for item in items:
        number = int(item["file"][2:6])
        assert titles[item["id"]] == f"note {number}"


async def test_every_imported_note_is_recorded_as_created_in_the_transaction(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notes_app.transfer.imports as imports
    from notes_app.notes.changes import ChangeKind

    recorded: list[tuple[int, ChangeKind, bool]] = []
    record = imports.record_changes

    async def spy(*, connection: Any, notes: Any, kind: ChangeKind) -> None:
        recorded.extend((note.id, kind, isinstance(connection, TransactionalDBClient)) for note in notes)
        await record(connection=connection, notes=notes, kind=kind)

    monkeypatch.setattr(imports, "record_changes", spy)

    response = await import_zip(client, {f"{n}.md": "x" for n in range(3)})

    assert response.status_code == 201
    ids = sorted(item["id"] for item in response.json()["items"])
    assert sorted(note_id for note_id, _, _ in recorded) == ids
    assert {kind for _, kind, _ in recorded} == {ChangeKind.CREATED}
    assert all(in_transaction for _, _, in_transaction in recorded)


async def test_imported_notes_reach_the_change_feed(client: httpx.AsyncClient) -> None:
    # The bulk INSERT leaves change_seq to the database's default; record_changes then stamps it.
    response = await import_zip(client, {f"{n}.md": f"note {n}" for n in range(3)})
    assert response.status_code == 201

    feed = await client.get("/notes/changes")

    assert feed.status_code == 200
    upserted = sorted(change["note"]["id"] for change in feed.json()["changes"] if change["type"] == "upsert")
    assert upserted == sorted(item["id"] for item in response.json()["items"])


# --- all or nothing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("---\ntitle: " + "t" * 201 + "\n---\n", "title"),
        ("x" * 100_001, "body"),
        ("---\ntags: [fine, c++]\n---\n", "tags"),
        ("---\ntags: [" + ", ".join(f"t{n}" for n in range(21)) + "]\n---\n", "tags"),
        ("---\ntags: {a: b}\n---\n", "tags"),
        ("---\npinned: maybe\n---\n", "pinned"),
        ("---\ntitle: [a, list]\n---\n", "title"),
        ("---\ncreated: last tuesday\n---\n", "created"),
        ("---\nupdated: 12345\n---\n", "updated"),
        ("---\ncreated: 0001-01-01T00:00:00+01:00\n---\n", "created"),
        # The driver would store these two as PostgreSQL's -infinity and infinity.
        ("---\ncreated: 0001-01-01T00:00:00Z\n---\n", "created"),
        ("---\nupdated: 9999-12-31T23:59:59.999999Z\n---\n", "updated"),
        ("---\ntitle: [unclosed\n---\n", "front matter"),
        ("---\ntitle: !!python/object/apply:os.system [echo hacked]\n---\n", "front matter"),
        ("---\nx: " + "[" * 5_000 + "\n---\n", "front matter"),
        ("nul \x00 character", "body"),
    ],
)
async def test_one_invalid_file_is_422_naming_it_and_nothing_is_written(
    client: httpx.AsyncClient, content: str, field: str
) -> None:
    response = await import_zip(client, {"good.md": "fine", "dir/bad.md": content, "also good.md": "fine"})

    problem = assert_problem(response, 422)
    assert "dir/bad.md" in problem["detail"]
    assert problem["errors"][0]["loc"][:3] == ["body", "dir/bad.md", field]
    assert await note_count() == 0


async def test_a_file_that_is_not_utf8_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await import_zip(client, {"latin1.md": "café".encode("latin-1")})

    problem = assert_problem(response, 422)
    assert problem["errors"] == [
        {"loc": ["body", "latin1.md"], "msg": "the file is not UTF-8 text", "type": "unicode_invalid"}
    ]
    assert await note_count() == 0


async def test_every_invalid_file_is_named(client: httpx.AsyncClient) -> None:
    files: dict[str, bytes | str] = {f"bad{n}.md": "---\ntags: [no.good]\n---\n" for n in range(3)}

    problem = assert_problem(await import_zip(client, files), 422)

    assert [error["loc"][1] for error in problem["errors"]] == ["bad0.md", "bad1.md", "bad2.md"]


async def test_an_invalid_single_markdown_file_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/import", content=b"\xff\xfe not utf-8", headers={"Content-Type": "text/markdown"})

    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "note.md"]


async def test_a_note_file_that_inflates_past_a_note_size_is_422_without_reading_it_all(
    client: httpx.AsyncClient,
) -> None:
    response = await import_zip(client, {"huge.md": b"a" * (3 * 1024 * 1024)})

    problem = assert_problem(response, 422)
    assert problem["errors"][0]["loc"] == ["body", "huge.md"]
    assert problem["errors"][0]["type"] == "too_long"


# --- what the route accepts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "multipart/form-data; boundary=x", "text/markdown; charset=latin-1"],
)
async def test_other_content_types_are_415(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post("/import", content=b"x", headers={"Content-Type": content_type})

    assert_problem(response, 415)
    assert await note_count() == 0


async def test_a_body_without_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/import", content=b"x", headers={"Content-Type": ""})

    assert_problem(response, 415)


async def test_windows_zip_media_type_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/import", content=make_zip({"a.md": "x"}), headers={"Content-Type": "application/x-zip-compressed"}
    )

    assert response.status_code == 201


async def test_import_needs_a_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/import", content=make_zip({"a.md": "x"}), headers=ZIP)

    assert_problem(response, 401)


async def test_imported_notes_belong_to_the_caller_only(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient, alice: Account
) -> None:
    response = await import_zip(client, {"a.md": "x"})

    assert response.status_code == 201
    assert await Note.filter(owner_id=alice.id).count() == 1
    assert await all_notes(bob_client) == []
