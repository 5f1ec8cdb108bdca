"""GET /export: every note of the caller as Markdown with front matter, in a ZIP streamed as it is written."""

import asyncio
import zipfile
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import yaml

import notes_app.transfer.export as export
from notes_app.config import Settings
from notes_app.users.models import UserSession
from notes_app.users.tokens import InvalidCredentials
from tests.conftest import Account, api_client, assert_problem, create_note, sign_up
from tests.transfer.support import (
    PATIENCE,
    RawClient,
    export_threads,
    import_zip,
    incompressible_notes,
    read_zip,
)


def _front_matter(content: bytes) -> tuple[str, bytes]:
    assert content.startswith(b"---\n")
    block, body = content[4:].split(b"\n---\n", 1)
    return block.decode() + "\n", body


async def test_export_is_an_attachment_named_for_the_user_and_the_utc_date(client: httpx.AsyncClient) -> None:
    response = await client.get("/export")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert response.headers["content-disposition"] == f'attachment; filename="notes-alice-{today}.zip"'
    assert read_zip(response.content) == {}  # no notes: an empty, valid archive


async def test_each_note_is_front_matter_then_its_body_byte_for_byte(client: httpx.AsyncClient) -> None:
    note = await create_note(client, title="Groceries", body="milk\r\neggs 🥚\n", tags=["home", "todo"], pinned=True)

    files = read_zip((await client.get("/export")).content)

    assert list(files) == ["Groceries.md"]
    assert (
        files["Groceries.md"]
        == (
            "---\n"
            'title: "Groceries"\n'
            "tags:\n"
            '- "home"\n'
            '- "todo"\n'
            "pinned: true\n"
            "archived: false\n"
            f'created: "{note["created_at"]}"\n'
            f'updated: "{note["updated_at"]}"\n'
            "---\n"
            "milk\r\neggs 🥚\n"
        ).encode()
    )


@pytest.mark.parametrize("title", ["true", "123", "null", "yes", "~", "0o14", "1e3", "2026-11-24", "'quoted'", "a: b"])
async def test_strings_are_quoted_so_yaml_11_and_12_readers_agree(client: httpx.AsyncClient, title: str) -> None:
    await create_note(client, title=title, body="", tags=["true", "123", "null"])

    [content] = read_zip((await client.get("/export")).content).values()
    block, _ = _front_matter(content)

    # Every string is double-quoted: no reader resolves a double-quoted scalar to anything but a string.
    for line in block.splitlines():
        value = line.split(": ", 1)[1] if ": " in line else line.removeprefix("- ")
        if value not in ("true", "false", "") and not line.endswith(":"):
            assert value.startswith('"'), line
    loaded = yaml.safe_load(block)  # a YAML 1.1 reader
    assert loaded["title"] == title
    assert loaded["tags"] == ["123", "null", "true"]


async def test_archived_notes_are_exported_and_other_users_notes_are_not(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    await create_note(client, title="Live")
    await create_note(client, title="Old", archived=True)
    await create_note(bob_client, title="Bob's")

    files = read_zip((await client.get("/export")).content)

    assert sorted(files) == ["Live.md", "Old.md"]
    assert b"archived: true" in files["Old.md"]


async def test_file_names_are_safe_and_unique(client: httpx.AsyncClient) -> None:
    titles = ["Same", "same", "SAME", "a/b\\c:d", "CON", "...", "  .hidden  ", "t" * 200, "é" * 150]
    ids = [(await create_note(client, title=title))["id"] for title in titles]

    names = list(read_zip((await client.get("/export")).content))

    assert names[:3] == ["Same.md", f"same ({ids[1]}).md", f"SAME ({ids[2]}).md"]
    assert names[3:7] == ["a_b_c_d.md", "_CON.md", "untitled.md", "hidden.md"]
    assert len({name.casefold() for name in names}) == len(names)
    assert all(len(name.encode()) <= 255 for name in names)
    assert names[8] == "é" * 100 + ".md"  # cut at a character boundary, 200 bytes


async def test_notes_are_read_in_batches_and_each_exported_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    reads: list[Any] = []
    read_batch = export.read_batch

    async def counting(**kwargs: Any) -> Any:
        reads.append(kwargs["position"])
        return await read_batch(**kwargs)

    monkeypatch.setattr(export, "read_batch", counting)
    for n in range(7):
        await create_note(client, title=f"note {n}", archived=n % 3 == 0)

    files = read_zip((await client.get("/export")).content)

    assert sorted(files) == sorted(f"note {n}.md" for n in range(7))
    assert len(reads) >= 4  # several batches of live notes, then of archived ones


async def test_export_needs_a_token(anonymous: httpx.AsyncClient) -> None:
    assert_problem(await anonymous.get("/export"), 401)


@pytest.fixture
def held_second_batch(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Small batches, and the second one is not read until the returned Event is set."""
    monkeypatch.setattr(export, "EXPORT_BATCH", 5)
    release = asyncio.Event()
    read_batch = export.read_batch
    calls = 0

    async def held(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            await release.wait()
        return await read_batch(**kwargs)

    monkeypatch.setattr(export, "read_batch", held)
    return release


async def test_the_first_bytes_leave_before_the_second_batch_is_read(
    client: httpx.AsyncClient, settings: Settings, alice: Account, held_second_batch: asyncio.Event
) -> None:
    await incompressible_notes(client, 12)
    raw = RawClient(settings, alice)

    download = asyncio.create_task(raw.get("/export"))
    try:
        await asyncio.wait_for(raw.first_chunk.wait(), PATIENCE)
        assert not download.done()
    finally:
        held_second_batch.set()
    await asyncio.wait_for(download, PATIENCE)

    assert len(read_zip(b"".join(raw.chunks))) == 12


async def test_an_abandoned_download_stops_its_thread(
    client: httpx.AsyncClient, settings: Settings, alice: Account, held_second_batch: asyncio.Event
) -> None:
    # Far more chunks than the thread may write ahead: it would wait for room forever if not stopped.
    await incompressible_notes(client, 40)
    raw = RawClient(settings, alice)

    download = asyncio.create_task(raw.get("/export"))
    await asyncio.wait_for(raw.first_chunk.wait(), PATIENCE)
    raw.disconnect.set()  # the client goes away mid-download
    held_second_batch.set()
    await asyncio.wait_for(download, PATIENCE)

    for thread in export_threads():
        await asyncio.to_thread(thread.join, PATIENCE)
    assert export_threads() == []


async def test_the_openapi_document_describes_the_zip_and_the_uploads(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    exported = paths["/export"]["get"]["responses"]["200"]
    assert set(exported["content"]) == {"application/zip"}
    assert "Content-Disposition" in exported["headers"]
    uploads = paths["/import"]["post"]["requestBody"]
    assert uploads["required"] is True
    assert set(uploads["content"]) == {
        "application/zip",
        "application/x-zip-compressed",
        "text/markdown",
        "text/x-markdown",
    }


async def test_notes_older_than_zip_dates_or_beyond_2038_export_with_their_exact_times(
    client: httpx.AsyncClient,
) -> None:
    files = {
        "old.md": "---\ncreated: 1970-01-01T00:00:00Z\n---\nbefore MS-DOS dates",
        "future.md": "---\ncreated: 2100-01-01T00:00:00Z\n---\nbeyond 32-bit Unix time",
    }
    assert (await import_zip(client, files)).status_code == 201

    exported = read_zip((await client.get("/export")).content)

    assert b'updated: "1970-01-01T00:00:00.000000Z"' in exported["old.md"]
    assert b'updated: "2100-01-01T00:00:00.000000Z"' in exported["future.md"]


async def test_a_session_ended_during_a_download_breaks_it_instead_of_ending_the_zip_early(
    settings: Settings, held_second_batch: asyncio.Event
) -> None:
    dave = await sign_up(settings, "dave")
    async with api_client(settings, dave) as dave_client:
        await incompressible_notes(dave_client, 12)
    raw = RawClient(settings, dave)

    download = asyncio.create_task(raw.get("/export"))
    try:
        await asyncio.wait_for(raw.first_chunk.wait(), PATIENCE)
        await UserSession.filter(id=dave.session_id).delete()  # signed out elsewhere, mid-download
    finally:
        held_second_batch.set()

    # The response had started: the server can only cut it (an ASGI server closes the connection), and
    # the client never receives the closing central directory of a ZIP that would look complete.
    with pytest.raises(RuntimeError, match="response already started") as failure:
        await asyncio.wait_for(download, PATIENCE)
    assert isinstance(failure.value.__cause__, InvalidCredentials)
    with pytest.raises(zipfile.BadZipFile):
        read_zip(b"".join(raw.chunks))


async def test_notes_in_the_trash_are_not_exported(client: httpx.AsyncClient) -> None:
    kept = await create_note(client, title="Kept")
    trashed = await create_note(client, title="Trashed")
    assert (await client.delete(f"/notes/{trashed['id']}")).status_code == 204

    files = read_zip((await client.get("/export")).content)

    assert list(files) == ["Kept.md"]
    assert kept["id"] != trashed["id"]
