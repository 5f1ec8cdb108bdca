"""GET /notes/{id} answers from the row (service.find_note_answer): byte for byte what the ORM's model gives."""

import httpx
import orjson

from notes_app.notes.etags import etag
from notes_app.notes.models import Note
from notes_app.notes.schemas import public_note
from tests.conftest import create_note
from tests.notes.test_pages import AWKWARD_NOTES, MOMENTS


async def test_a_note_is_byte_for_byte_what_the_orm_model_gives(client: httpx.AsyncClient) -> None:
    created = [await create_note(client, **note) for note in AWKWARD_NOTES]
    for note, moment in zip(created, MOMENTS, strict=True):
        await Note.filter(id=note["id"]).update(created_at=moment, updated_at=moment.replace(year=2027))

    for note in created:
        response = await client.get(f"/notes/{note['id']}")

        assert response.status_code == 200
        model = await Note.get(id=note["id"])
        # Byte for byte: the same keys in the same order, the same escapes, the same timestamp digits.
        assert response.content == orjson.dumps(public_note(model))
        assert response.headers["etag"] == etag(model)


async def test_a_changed_note_answers_its_new_version_and_tag(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    patched = await client.patch(f"/notes/{note['id']}", json={"pinned": True, "tags": []})

    response = await client.get(f"/notes/{note['id']}")

    assert response.content == patched.content
    assert response.headers["etag"] == patched.headers["etag"] == f'"{note["id"]}-2"'
