"""Hostile uploads: oversized bodies, zip bombs, too many entries, encrypted and corrupt archives.

Each is refused with a problem, writes nothing, and never holds up other requests: the inflating and
parsing run in a worker thread, proven by holding that thread on an Event while /health/live answers.
"""

import asyncio
import io
import os
import threading
import zipfile
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest

import notes_app.transfer.imports as imports
from notes_app.config import Settings
from tests.conftest import Account, api_client, assert_problem
from tests.transfer.support import ZIP, all_notes, make_zip, mark_encrypted, note_count

MIB = 1024 * 1024
# How long a test waits for something that should happen at once; only a hang reaches it.
PATIENCE = 30


def _zip_bomb(inflated_bytes: int) -> bytes:
    """One Markdown file of zeros: a few hundred KB that inflate to `inflated_bytes`."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("bomb.md", "w", force_zip64=True) as member,
    ):
        block = b"\0" * MIB
        for _ in range(inflated_bytes // MIB):
            member.write(block)
    return buffer.getvalue()


@pytest.fixture
def opened_members(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The archive members the import inflates (ZipFile.open calls), in order."""
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode == "r":  # not the test's own writing of archives
            opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return original(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return opened


async def test_a_zip_bomb_is_413_before_anything_is_inflated(
    client: httpx.AsyncClient, opened_members: list[str]
) -> None:
    bomb = _zip_bomb(201 * MIB)
    assert len(bomb) < MIB

    response = await client.post("/import", content=bomb, headers=ZIP)

    assert "inflates to more than" in assert_problem(response, 413)["detail"]
    assert opened_members == []
    assert await note_count() == 0


async def test_an_archive_that_understates_its_sizes_is_refused_at_what_it_declared(
    client: httpx.AsyncClient,
) -> None:
    honest = make_zip({"liar.md": b"a" * (4 * MIB)})
    # Rewrite the uncompressed size (local header offset 22, central record offset 24) to 100 bytes:
    # a reader that trusted it would allocate 100 bytes and inflate megabytes into them.
    raw = bytearray(honest)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        raw[at + offset : at + offset + 4] = (100).to_bytes(4, "little")

    response = await client.post("/import", content=bytes(raw), headers=ZIP)

    assert "liar.md" in assert_problem(response, 422)["detail"]
    assert await note_count() == 0


async def test_inflated_bytes_are_counted_across_files(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three honest files of 40 KB under a limit of 100 KB: the declared total already says no.
    monkeypatch.setattr(imports, "read_archive", _with_limits(max_inflated_bytes=100_000))
    files: dict[str, bytes | str] = {f"{n}.md": b"a" * 40_000 for n in range(3)}

    assert_problem(await client.post("/import", content=make_zip(files), headers=ZIP), 413)
    assert await note_count() == 0


def _with_limits(**limits: int) -> Callable[[bytes], Any]:
    def read(data: bytes) -> Any:
        return imports_read_archive(data, **limits)

    return read


imports_read_archive = imports.read_archive


async def test_more_than_10000_entries_is_413_before_the_directory_is_parsed(
    client: httpx.AsyncClient, opened_members: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Directories and skipped files count: every entry of the archive does.
    files: dict[str, bytes | str] = {f"d{n}/": b"" for n in range(5_000)}
    files |= {f"d{n}/x.png": b"" for n in range(5_000)}
    files["one more.md"] = "x"
    archive = make_zip(files)
    parsed: list[int] = []
    parse = zipfile.ZipFile._RealGetContents  # type: ignore[attr-defined]

    def spy(self: zipfile.ZipFile) -> None:
        parsed.append(1)
        parse(self)

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", spy)

    response = await client.post("/import", content=archive, headers=ZIP)

    assert "10001 entries" in assert_problem(response, 413)["detail"]
    assert parsed == []  # refused on the end record's count, before a ZipInfo per entry is built
    assert opened_members == []


async def test_exactly_10000_entries_are_accepted(client: httpx.AsyncClient) -> None:
    files: dict[str, bytes | str] = {f"{n}.md": f"note {n}" for n in range(10_000)}

    response = await client.post("/import", content=make_zip(files), headers=ZIP)

    assert response.status_code == 201, response.text
    assert response.json()["created"] == 10_000


async def test_an_encrypted_archive_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/import", content=mark_encrypted(make_zip({"secret.md": "x"})), headers=ZIP)

    assert "encrypted" in assert_problem(response, 422)["detail"]
    assert await note_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not a zip at all",
        b"",
        make_zip({"a.md": os.urandom(1000), "b.md": os.urandom(1000)})[:1500],  # truncated
        os.urandom(4096),
    ],
)
async def test_a_body_that_is_not_a_readable_zip_is_422(client: httpx.AsyncClient, body: bytes) -> None:
    assert_problem(await client.post("/import", content=body, headers=ZIP), 422)
    assert await note_count() == 0


async def test_a_member_with_garbled_data_is_422_naming_it(client: httpx.AsyncClient) -> None:
    archive = bytearray(make_zip({"fine.md": "x", "garbled.md": "compressible text " * 200}))
    start = archive.find(b"garbled.md") + len(b"garbled.md")  # its data follows its local header
    archive[start + 5 : start + 25] = os.urandom(20)

    response = await client.post("/import", content=bytes(archive), headers=ZIP)

    assert "garbled.md" in assert_problem(response, 422)["detail"]
    assert await note_count() == 0


async def test_an_unsupported_compression_method_is_422(client: httpx.AsyncClient) -> None:
    raw = bytearray(make_zip({"a.md": "x" * 100}))
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = raw.find(signature)
        raw[at + offset : at + offset + 2] = (9).to_bytes(2, "little")  # Deflate64: not in zipfile

    assert_problem(await client.post("/import", content=bytes(raw), headers=ZIP), 422)


async def test_paths_in_the_archive_are_only_names(client: httpx.AsyncClient) -> None:
    files: dict[str, bytes | str] = {"../../escape.md": "up", "/etc/absolute.md": "abs", "C:\\win\\dos.md": "win"}

    response = await client.post("/import", content=make_zip(files), headers=ZIP)

    assert response.status_code == 201, response.text
    # Reported as the archive names them, titled by their last part, and written nowhere.
    assert [item["file"] for item in response.json()["items"]] == list(files)
    assert sorted(note["title"] for note in await all_notes(client)) == ["absolute", "dos", "escape"]
    assert not await anyio.Path("../../escape.md").exists()
    assert not await anyio.Path("/etc/absolute.md").exists()


# --- body size -----------------------------------------------------------------------------------


@pytest.fixture
async def small_import_client(settings: Settings, alice: Account) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings.model_copy(update={"max_import_bytes": 4096}), alice) as http:
        yield http


async def test_an_import_declared_over_max_import_bytes_is_413(small_import_client: httpx.AsyncClient) -> None:
    response = await small_import_client.post("/import", content=b"x" * 4097, headers=ZIP)

    assert "4096 bytes" in assert_problem(response, 413)["detail"]


async def test_a_streamed_import_over_max_import_bytes_is_413(small_import_client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 1024

    response = await small_import_client.post("/import", content=chunks(), headers=ZIP)

    assert_problem(response, 413)
    assert await note_count() == 0


async def test_an_import_may_be_larger_than_the_json_body_limit(client: httpx.AsyncClient) -> None:
    archive = make_zip({"note.md": "x", "photo.jpg": os.urandom(int(1.5 * MIB))}, compression=zipfile.ZIP_STORED)
    assert len(archive) > MIB

    response = await client.post("/import", content=archive, headers=ZIP)
    assert response.status_code == 201, response.text
    # ... while every other route keeps its 1 MiB.
    assert_problem(await client.post("/notes", content=archive, headers={"Content-Type": "application/json"}), 413)


# --- other requests keep flowing ------------------------------------------------------------------


def _held(monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[threading.Event, threading.Event]:
    """Replace imports.NAME by a version that signals `entered` and waits for `release` in whichever
    thread runs it: on the event loop itself, the loop would stop and /health/live could not answer."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(imports, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        if not release.wait(PATIENCE):
            raise TimeoutError("the test never released the import")
        return original(*args, **kwargs)

    monkeypatch.setattr(imports, name, held)
    return entered, release


async def _while_held(
    client: httpx.AsyncClient, entered: threading.Event, release: threading.Event, request: Any
) -> httpx.Response:
    upload = asyncio.create_task(request)
    try:
        assert await asyncio.to_thread(entered.wait, PATIENCE)
        live = await asyncio.wait_for(client.get("/health/live"), PATIENCE)
        assert live.status_code == 200
        assert not upload.done()
    finally:
        release.set()
    return await asyncio.wait_for(upload, PATIENCE)


async def test_health_answers_while_an_import_is_parsing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = _held(monkeypatch, "plan_import")
    request = client.post("/import", content=make_zip({"a.md": "x"}), headers=ZIP)

    response = await _while_held(client, entered, release, request)

    assert response.status_code == 201


async def test_health_answers_while_a_zip_bomb_is_being_refused(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = _held(monkeypatch, "read_archive")
    request = client.post("/import", content=_zip_bomb(201 * MIB), headers=ZIP)

    response = await _while_held(client, entered, release, request)

    assert_problem(response, 413)


async def test_health_answers_while_an_oversized_upload_arrives(small_import_client: httpx.AsyncClient) -> None:
    halfway = asyncio.Event()
    go_on = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"x" * 3000
        halfway.set()
        await go_on.wait()
        yield b"x" * 3000

    upload = asyncio.create_task(small_import_client.post("/import", content=chunks(), headers=ZIP))
    try:
        await asyncio.wait_for(halfway.wait(), PATIENCE)
        live = await asyncio.wait_for(small_import_client.get("/health/live"), PATIENCE)
        assert live.status_code == 200
        assert not upload.done()
    finally:
        go_on.set()
    assert_problem(await asyncio.wait_for(upload, PATIENCE), 413)
