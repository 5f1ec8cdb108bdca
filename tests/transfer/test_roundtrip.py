"""GET /export then POST /import into an empty account gives the same notes."""

from typing import Any

import httpx

from notes_app.config import Settings
from tests.conftest import api_client, create_note, sign_up
from tests.transfer.support import ZIP, all_notes, read_zip

_KEPT = ("title", "body", "tags", "pinned", "archived", "created_at", "updated_at")


def _content(note: dict[str, Any]) -> dict[str, Any]:
    return {field: note[field] for field in _KEPT}


async def test_export_then_import_into_a_new_account_gives_identical_notes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await create_note(client, title="CRLF", body="line one\r\nline two\r\n", tags=[])
    await create_note(client, title="Emoji 😀 and é", body="🎉 body 👩‍👩‍👧 \u2028 \x85 \ufeff", tags=["ünï"])
    await create_note(client, title="Long", body="x" * 99_999 + "😀")
    await create_note(client, title="Front", body="---\ntitle: not me\n---\nbody after a fake front matter\n")
    await create_note(client, title="true", body="", tags=["true", "123", "null"])
    await create_note(client, title="123", body="   leading and trailing space   ")
    await create_note(client, title="null", body="\n\n", pinned=True)
    await create_note(client, title="  yes  ", body="# heading that is not the title", archived=True)
    await create_note(client, title="Same", body="first")
    await create_note(client, title="same", body="second: names differ only in case")
    await create_note(client, title='a/b\\c:d*e?f"g<h>i|j', body="unsafe characters in the title")
    await create_note(client, title="0o14", body="an octal in YAML 1.2 only", tags=["0x1a"])
    await create_note(client, title="line\nbreak\ttab", body="")
    original = await all_notes(client)
    assert len(original) == 13

    exported = await client.get("/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/zip"
    assert len(read_zip(exported.content)) == 13

    carol = await sign_up(settings, "carol")
    async with api_client(settings, carol) as carol_client:
        imported = await carol_client.post("/import", content=exported.content, headers=ZIP)
        assert imported.status_code == 201, imported.text
        assert imported.json()["created"] == 13
        assert imported.json()["skipped"] == []
        copied = await all_notes(carol_client)

    assert sorted(map(_content, copied), key=str) == sorted(map(_content, original), key=str)
    assert all(note["version"] == 1 for note in copied)
