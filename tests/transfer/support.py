"""Archives made in memory, as other tools and hostile clients would make them."""

import io
import zipfile
from typing import Any

import httpx

ZIP = {"Content-Type": "application/zip"}


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
