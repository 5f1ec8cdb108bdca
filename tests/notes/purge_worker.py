"""A purge worker in its own process, for tests/notes/test_purge.py: `python -m tests.notes.purge_worker MODE ...`.

Modes (each prints one JSON value on stdout):
- `seed LIVE TRASHED`: an account with LIVE live notes and TRASHED trashed ones: {"live": [...], "trashed": [...]}
- `purge READY WAIT BATCH`: touches READY, waits until WAIT exists (so two workers start together), then
  purges every trashed note in batches of BATCH: the ids this worker purged
- `purge-two BATCH`: two connections to the one database, purging at once: [ids of one, ids of the other]
- `state`: the ids of the notes left, and of the notes that still have revisions
"""

import asyncio
import copy
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
from tortoise import Tortoise

from notes_app.config import get_settings
from notes_app.db import tortoise_config
from notes_app.notes import service
from notes_app.notes.models import Note, NoteRevision
from notes_app.notes.schemas import NoteCreate
from notes_app.notes.trash import purge_expired_trash
from notes_app.users.models import User

RETENTION = timedelta(0)  # everything in the trash has expired


async def seed(live: int, trashed: int) -> Any:
    owner = await User.create(username=f"purger{time.monotonic_ns()}", password_hash="!")
    notes = await service.create_notes(
        owner_id=owner.id, batch=[NoteCreate(title=f"n{i}") for i in range(live + trashed)]
    )
    for note in notes[live:]:
        await service.trash_note(note=note)
    return {"live": [note.id for note in notes[:live]], "trashed": [note.id for note in notes[live:]]}


def start_together(ready: str, wait: str) -> None:
    """Say this worker is ready, and wait (blocking: nothing else runs yet) until the other one is."""
    Path(ready).touch()
    deadline = time.monotonic() + 60
    while not Path(wait).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the other worker never started")
        time.sleep(0.005)


async def purge(ready: str, wait: str, batch: int) -> Any:
    start_together(ready, wait)
    return await purge_expired_trash(retention=RETENTION, batch_size=batch)


async def purge_two(batch: int) -> Any:
    return await asyncio.gather(
        purge_expired_trash(retention=RETENTION, batch_size=batch),
        purge_expired_trash(retention=RETENTION, batch_size=batch, connection_name="second"),
    )


async def state() -> Any:
    notes = await Note.all().order_by("id").values_list("id", flat=True)
    with_revisions = await NoteRevision.all().distinct().order_by("note_id").values_list("note_id", flat=True)
    return {"notes": notes, "with_revisions": with_revisions}


async def main(mode: str, *args: str) -> None:
    config = tortoise_config(get_settings())
    if mode == "purge-two":
        config["connections"]["second"] = copy.deepcopy(config["connections"]["default"])
    await Tortoise.init(config=config)
    try:
        if mode == "seed":
            result = await seed(int(args[0]), int(args[1]))
        elif mode == "purge":
            result = await purge(args[0], args[1], int(args[2]))
        elif mode == "purge-two":
            result = await purge_two(int(args[0]))
        else:
            result = await state()
    finally:
        await Tortoise.close_connections()
    sys.stdout.write(orjson.dumps(result).decode())


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
