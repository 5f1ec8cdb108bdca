"""A note's history: the revision each version left, how many are kept, and diffs between them.

Revisions are written by notes_app/notes/changes.py in the transaction of each change. The newest
`REVISIONS_PER_NOTE` versions of a note are its history. Older rows are deleted in small batches (one
DELETE every `PRUNE_EVERY` versions, not one per write), so a note may briefly hold a few more rows than
it keeps; every read asks only for the kept versions, `version > current - REVISIONS_PER_NOTE`, so
clients never see the difference.
"""

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise import BaseDBAsyncClient

from notes_app.errors import ProblemError
from notes_app.notes.models import MAX_VERSION, Note, NoteRevision
from notes_app.replicas import read_connection

PRUNE_EVERY = 16


@dataclass
class _History:
    # Set from REVISIONS_PER_NOTE by create_app (notes_app/main.py): record_change's signature is shared
    # by every write path and carries no settings.
    kept: int = 100


_history = _History()


def keep_revisions(count: int) -> None:
    """How many of each note's newest versions the history keeps."""
    _history.kept = count


def kept_revisions() -> int:
    return _history.kept


class RevisionNotFound(ProblemError):
    status = 404

    def __init__(self, note_id: int, version: int) -> None:
        super().__init__(f"note {note_id} has no kept revision {version}")


async def write_revisions(*, connection: BaseDBAsyncClient, notes: Sequence[Note]) -> None:
    """Insert the revision of each note's current version (one statement), then delete the versions
    that fell out of the history, for the notes whose version is a multiple of PRUNE_EVERY."""
    revisions = [
        NoteRevision(
            note_id=note.id,
            version=note.version,
            title=note.title,
            body=note.body,
            tags=note.tags,
            pinned=note.pinned,
            archived=note.archived,
            created_at=note.updated_at,
        )
        for note in notes
    ]
    if len(revisions) == 1:
        await revisions[0].save(using_db=connection)
    else:
        await NoteRevision.bulk_create(revisions, using_db=connection)
    kept = _history.kept
    for note in notes:
        if note.version > kept and note.version % PRUNE_EVERY == 0:
            await NoteRevision.filter(note_id=note.id, version__lte=note.version - kept).using_db(connection).delete()


def _oldest_kept(note: Note) -> int:
    return max(1, note.version - _history.kept + 1)


def is_kept(note: Note, version: int) -> bool:
    return _oldest_kept(note) <= version <= note.version


async def list_revisions(*, note: Note, limit: int, before: int | None) -> tuple[list[NoteRevision], int | None]:
    """A page of the note's kept revisions, newest first, starting below version `before`; and the
    version the next page starts below, if there is one."""
    query = NoteRevision.filter(note_id=note.id, version__gte=_oldest_kept(note), version__lte=note.version)
    if before is not None:
        query = query.filter(version__lt=before)
    # A replica on GET (notes_app/replicas.py): a note's revisions commit with its versions, so a replica
    # that served the note has them.
    revisions = await query.order_by("-version").limit(limit + 1).using_db(read_connection())
    if len(revisions) <= limit:
        return revisions, None
    revisions = revisions[:limit]
    return revisions, revisions[-1].version


async def find_revision(*, note: Note, version: int) -> NoteRevision:
    """The revision of `version`, if the history keeps it; 404 otherwise (also for versions that
    cannot exist: 0, negative, or beyond the note's)."""
    if is_kept(note, version):
        revision = await NoteRevision.get_or_none(note_id=note.id, version=version, using_db=read_connection())
        if revision is not None:
            return revision
    raise RevisionNotFound(note.id, version)


async def find_revisions(*, note: Note, versions: Iterable[int]) -> dict[int, NoteRevision]:
    """The kept revisions of `versions`, by version, in one query; 404 for the first one not kept."""
    wanted = sorted(set(versions))
    for version in wanted:
        if not is_kept(note, version):
            raise RevisionNotFound(note.id, version)
    found = {
        revision.version: revision
        for revision in await NoteRevision.filter(note_id=note.id, version__in=wanted).using_db(read_connection())
    }
    for version in wanted:
        if version not in found:
            raise RevisionNotFound(note.id, version)
    return found


def _unified(old: str, new: str, *, old_name: str, new_name: str) -> list[str]:
    """difflib's unified diff of two texts, marking a last line without a newline as `diff -u` does,
    so that applying the diff gives back the text byte for byte."""
    lines: list[str] = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=old_name, tofile=new_name
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:
            lines.append(line + "\n\\ No newline at end of file\n")
    return lines


def revision_diff(*, note_id: int, old: NoteRevision, new: NoteRevision) -> str:
    """The unified diff of the title and then of the body, from `old` to `new`: one `---`/`+++` pair
    per part that differs (`note-17/v3/title`, ...), nothing when both are equal."""
    parts: list[str] = []
    for part in ("title", "body"):
        parts += _unified(
            getattr(old, part),
            getattr(new, part),
            old_name=f"note-{note_id}/v{old.version}/{part}",
            new_name=f"note-{note_id}/v{new.version}/{part}",
        )
    return "".join(parts)


def revision_values(revision: NoteRevision) -> dict[str, Any]:
    """What restoring `revision` sets on the note."""
    return {
        "title": revision.title,
        "body": revision.body,
        "tags": revision.tags,
        "pinned": revision.pinned,
        "archived": revision.archived,
    }


def valid_version(version: int) -> bool:
    return 1 <= version <= MAX_VERSION
