"""The notes a write returns are whole: every column as the ORM reads it (notes_app/notes/returning.py),
and the answers of POST, PUT and PATCH are the note as stored (notes_app/notes/answers.py)."""

import orjson

from notes_app.notes import service
from notes_app.notes.answers import NoteAnswer
from notes_app.notes.etags import etag
from notes_app.notes.models import Note
from notes_app.notes.returning import returning_notes
from notes_app.notes.schemas import ROW_JSON_OPTIONS, NoteCreate, NotePatch, NoteReplace, public_note
from notes_app.users.credentials import Caller
from tests.conftest import Account


def _caller(account: Account) -> Caller:
    return Caller(id=account.id, session_id=account.session_id, personal_token_hash=None, can_write=True)


async def assert_answers_the_stored_note(answer: NoteAnswer) -> None:
    stored = await Note.get(id=answer.id)
    assert orjson.dumps(answer.public, option=ROW_JSON_OPTIONS) == orjson.dumps(public_note(stored))
    assert answer.etag == etag(stored)


async def test_a_written_note_comes_back_whole(alice: Account) -> None:
    created = await service.create_note(caller=_caller(alice), data=NoteCreate(title="first", tags=["a"]))

    [updated] = await returning_notes(Note.filter(id=created.id).update(title="second"))

    assert not updated._partial
    assert (updated.id, updated.owner_id, updated.title, updated.tags, updated.version) == (
        created.id,
        alice.id,
        "second",
        ["a"],
        1,
    )
    assert updated.deleted_at is None
    stored = await Note.get(id=created.id)
    assert (updated.created_at, updated.updated_at) == (stored.created_at, stored.updated_at)


async def test_the_answers_of_post_put_and_patch_are_the_note_as_stored(alice: Account) -> None:
    caller = _caller(alice)
    created = await service.create_note(caller=caller, data=NoteCreate(title="first", body="é 😀", tags=["b", "a"]))
    await assert_answers_the_stored_note(created)

    patched = await service.patch_note(caller=caller, note_id=created.id, changes=NotePatch(pinned=True))
    await assert_answers_the_stored_note(patched)
    assert patched.public["version"] == 2

    replaced = await service.replace_note(caller=caller, note_id=created.id, data=NoteReplace(title="second"))
    await assert_answers_the_stored_note(replaced)
    unchanged = await service.patch_note(caller=caller, note_id=created.id, changes=NotePatch(title="second"))
    await assert_answers_the_stored_note(unchanged)
    assert unchanged == replaced
