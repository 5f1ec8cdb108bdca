"""POST, PUT and PATCH on PostgreSQL write the note and its traces in one statement
(notes_app/notes/postgres_writes.py), which builds the webhook payload in SQL: it must be the payload
notes_app/sync/recorder.py builds in Python for every other write path, byte for byte."""

from datetime import UTC, datetime

import httpx
import orjson
import pytest
from pydantic import BaseModel

from notes_app.config import Settings
from notes_app.notes.postgres_writes import _FIELD_TYPES
from notes_app.notes.schemas import NoteCreate, NotePatch, NoteReplace, timestamp
from notes_app.sync.models import Webhook, WebhookEvent
from tests.conftest import Account

# Everything JSON must escape or may leave as it is: quotes, backslashes, slashes, tabs and newlines,
# other control characters, non-ASCII, a character outside the BMP, U+2028 and DEL.
AWKWARD = 'say "hi" \\ back/slash\ttab\nline\r\x01\x1f é 😀 \u2028 \x7f'


@pytest.fixture
async def webhook(settings: Settings, alice: Account) -> Webhook:
    if settings.dialect != "postgres":
        pytest.skip("SQLite builds the payload in Python (notes_app/sync/recorder.py)")
    now = datetime.now(UTC)
    return await Webhook.create(owner_id=alice.id, url="https://hooks.test/in", events=15, secret="s", created_at=now)


def expected_payload(event: WebhookEvent, note: dict[str, object]) -> str:
    envelope = {"type": event.type, "timestamp": timestamp(event.created_at), "data": {"note": note}}
    return orjson.dumps(envelope).decode()


async def test_the_payloads_of_a_post_put_and_patch_are_the_ones_python_builds(
    client: httpx.AsyncClient, webhook: Webhook
) -> None:
    created = await client.post(
        "/notes", json={"title": 'Awkward é 😀 "quoted" back\\slash', "body": AWKWARD, "tags": ["b", "a-1"]}
    )
    assert created.status_code == 201, created.text
    note_id = created.json()["id"]
    patched = await client.patch(f"/notes/{note_id}", json={"body": AWKWARD + " again", "tags": []})
    assert patched.status_code == 200, patched.text
    replaced = await client.put(f"/notes/{note_id}", json={"title": "plain", "pinned": True, "archived": True})
    assert replaced.status_code == 200, replaced.text

    events = await WebhookEvent.filter(webhook_id=webhook.id).order_by("id")

    assert [event.type for event in events] == ["note.created", "note.updated", "note.updated"]
    for event, answer in zip(events, (created, patched, replaced), strict=True):
        assert event.payload == expected_payload(event, answer.json())


@pytest.mark.parametrize("schema", [NoteCreate, NoteReplace, NotePatch])
def test_the_statements_know_the_sql_type_of_every_writable_field_and_no_other(schema: type[BaseModel]) -> None:
    # A field added to the schemas but not to _FIELD_TYPES would be dropped from every create without a
    # word and make every update that sets it a KeyError (a 500); one left over would be written from nothing.
    assert set(_FIELD_TYPES) == set(schema.model_fields)
