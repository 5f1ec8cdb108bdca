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
