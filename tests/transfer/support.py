"""Archives made in memory, as other tools and hostile clients would make them."""

import asyncio
import io
import os
import threading
import zipfile
from typing import Any

import httpx

from notes_app.config import Settings
from notes_app.main import create_app
from tests.conftest import Account, create_note

ZIP = {"Content-Type": "application/zip"}
# A bound against a hang, not a duration anything is expected to take.
PATIENCE = 30


def make_zip(files: dict[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def import_zip(client: httpx.AsyncClient, files: dict[str, bytes | str]) -> httpx.Response:
    return await client.post("/import", content=make_zip(files), headers=ZIP)


async def all_notes(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every note of the client's account, archived ones too, by id."""
    notes: list[dict[str, Any]] = []
    for archived in ("false", "true"):
        cursor = None
        while True:
            params = {"limit": "100", "archived": archived, **({"cursor": cursor} if cursor else {})}
            response = await client.get("/notes", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            notes += page["items"]
            if not (cursor := page["next_cursor"]):
                break
    return sorted(notes, key=lambda note: note["id"])


def mark_encrypted(data: bytes) -> bytes:
    """The archive with every entry flagged as encrypted (general purpose bit 0), in its local header
    and its central directory record, as a password-protected archive has it."""
    raw = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            raw[start + flag_offset] |= 0x1
            start += 4
    return bytes(raw)


async def note_count() -> int:
    from notes_app.notes.models import Note

    return await Note.all().count()


class RawClient:
    """Calls the ASGI app directly, to see the response's body messages as the server sends them."""

    def __init__(self, settings: Settings, account: Account) -> None:
        self.app = create_app(settings)
        self.account = account
        self.chunks: list[bytes] = []
        self.first_chunk = asyncio.Event()
        self.disconnect = asyncio.Event()
        # Cleared: the client stops reading after the first chunk (its socket's buffers are full).
        self.reading = asyncio.Event()
        self.reading.set()

    async def get(self, path: str) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"notes.test"), (b"authorization", f"Bearer {self.account.token}".encode())],
            "client": ("127.0.0.1", 1234),
            "server": ("notes.test", 80),
        }
        sent_request = False

        async def receive() -> dict[str, Any]:
            nonlocal sent_request
            if not sent_request:
                sent_request = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self.disconnect.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                self.chunks.append(message["body"])
                self.first_chunk.set()
                await self.reading.wait()

        await self.app(scope, receive, send)


async def incompressible_notes(client: httpx.AsyncClient, count: int) -> None:
    # 24 KB of random text each: the first batch (6 notes) fills more than one 64 KiB chunk.
    for n in range(count):
        await create_note(client, title=f"random {n}", body=os.urandom(18_000).hex()[:24_000])


def export_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "notes-export"]
