"""The notes a write returns (notes_app/notes/returning.py) are whole: every column, as the ORM reads them."""

from notes_app.notes import service
from notes_app.notes.models import Note
from notes_app.notes.schemas import NoteCreate, NotePatch
from notes_app.users.credentials import Caller
from tests.conftest import Account


async def test_a_written_note_comes_back_whole(alice: Account) -> None:
    caller = Caller(id=alice.id, session_id=alice.session_id, personal_token_hash=None, can_write=True)
    created = await service.create_note(caller=caller, data=NoteCreate(title="first", tags=["a"]))

    patched = await service.patch_note(caller=caller, note_id=created.id, changes=NotePatch(title="second"))

    assert not patched._partial
    assert (patched.id, patched.owner_id, patched.title, patched.tags, patched.version) == (
        created.id,
        alice.id,
        "second",
        ["a"],
        2,
    )
    assert patched.deleted_at is None
    stored = await Note.get(id=created.id)
    assert (patched.created_at, patched.updated_at) == (stored.created_at, stored.updated_at)
