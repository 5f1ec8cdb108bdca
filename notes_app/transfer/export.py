"""GET /export, free of HTTP: every note of an owner as Markdown files in a ZIP, streamed as it is written.

Notes are read in keyset batches (the listing's own query, oldest first, live notes then archived
ones), so memory holds one batch whatever the number of notes, and the first bytes leave after the
first batch. The ZIP is written by stream-zip in one worker thread per export: rendering front matter,
deflating and CRCs are CPU work that would otherwise stall the event loop. The thread asks the event loop
for each next batch, and hands chunks back through a queue a few chunks deep, so a slow client slows the
thread down rather than filling memory. (stream-zip's own async_stream_zip hops threads for every
file and chunk: ~2,000 files/s here, against ~50,000 for its sync generator.)
"""

import asyncio
import contextvars
import stat
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from stream_zip import ZIP_AUTO, MemberFile, stream_zip

from notes_app.notes.listing import NoteFilters, page_query
from notes_app.notes.pagination import SORTS, Cursor
from notes_app.transfer.filenames import UniqueNames
from notes_app.transfer.frontmatter import render_note
from notes_app.users.credentials import Caller, ensure_alive

# Notes per query. A batch of the largest notes (100,000 characters) is ~80 MB of text at most.
EXPORT_BATCH = 200
_FIELDS = ("id", "title", "body", "tags", "pinned", "archived", "created_at", "updated_at")
# Oldest first, by the (owner_id, archived, created_at, id) index the listing uses.
_ORDER = SORTS["created_at"]
_CHUNK_BYTES = 64 * 1024
_CHUNKS_AHEAD = 4
# Deflate level 6 (zlib's default): nearly level 9's size for Markdown, at a fraction of its CPU.
_COMPRESSION_LEVEL = 6
_FILE_MODE = stat.S_IFREG | 0o644
# A ZIP entry's time is an MS-DOS date (1980..2107) plus stream-zip's 32-bit Unix time: a note older or
# newer is stamped with the nearest one. The exact times are in each file's front matter.
_EARLIEST_ENTRY_TIME = datetime(1980, 1, 1, tzinfo=UTC)
_LATEST_ENTRY_TIME = datetime(2038, 1, 1, tzinfo=UTC)

Row = dict[str, Any]
# Where a batch starts: archived or not, and after which note (None: from the first).
Position = tuple[bool, Cursor | None]


async def read_batch(*, caller: Caller, position: Position) -> list[Row]:
    """Up to EXPORT_BATCH + 1 notes from `position` (the listing's page query, lookahead included). The
    query finds notes only while the caller's session or token is alive; a batch that ends a pass is
    therefore followed by a check that it still is, so a credential revoked during a download breaks
    the download (401 before the first byte, a cut connection after) instead of ending a ZIP early
    that would look complete."""
    archived, after = position
    query = page_query(
        caller=caller, filters=NoteFilters(archived=archived), sort=_ORDER, limit=EXPORT_BATCH, after=after
    )
    rows: list[Row] = await query.values(*_FIELDS)
    if len(rows) <= EXPORT_BATCH:
        await ensure_alive(caller)
    return rows


def _next_position(position: Position, rows: list[Row]) -> Position | None:
    archived, _ = position
    if len(rows) > EXPORT_BATCH:
        last = rows[-1]
        return archived, Cursor(value=last["created_at"], id=last["id"])
    return (True, None) if not archived else None


def _entry_time(moment: datetime) -> datetime:
    return min(max(moment, _EARLIEST_ENTRY_TIME), _LATEST_ENTRY_TIME)


def _members(first: list[Row], read_next: Callable[[Position], list[Row]]) -> Iterator[MemberFile]:
    names = UniqueNames()
    position: Position | None = (False, None)
    rows = first
    while position is not None:
        for row in rows:
            content = render_note(
                title=row["title"],
                body=row["body"],
                tags=row["tags"],
                pinned=row["pinned"],
                archived=row["archived"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
            name = names.name_for(title=row["title"], note_id=row["id"])
            method = ZIP_AUTO(len(content), level=_COMPRESSION_LEVEL)
            yield name, _entry_time(row["updated_at"]), _FILE_MODE, method, (content,)
        position = _next_position(position, rows)
        if position is not None:
            rows = read_next(position)


async def export_archive(*, caller: Caller) -> AsyncIterator[bytes]:
    """Reads the first batch now, so a database that is down is a 503 and not a broken download, and
    returns the archive's chunks."""
    first = await read_batch(caller=caller, position=(False, None))
    return _stream(caller=caller, first=first)


async def _stream(*, caller: Caller, first: list[Row]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
    room = threading.Semaphore(_CHUNKS_AHEAD)
    stopped = threading.Event()

    def read_next(position: Position) -> list[Row]:
        # In the worker thread: the query runs on the event loop (the ORM's connections live there).
        return asyncio.run_coroutine_threadsafe(read_batch(caller=caller, position=position), loop).result()

    def hand_over(item: bytes | BaseException | None) -> None:
        try:
            loop.call_soon_threadsafe(chunks.put_nowait, item)
        except RuntimeError:  # the event loop has closed: the server is gone, and so is the client
            stopped.set()

    def write_archive() -> None:
        try:
            for chunk in stream_zip(_members(first, read_next), chunk_size=_CHUNK_BYTES):
                room.acquire()
                if stopped.is_set():
                    return  # the client went away
                hand_over(chunk)
            hand_over(None)
        except Exception as exc:  # handed to the response, which raises it in the request's task
            hand_over(exc)

    # The thread runs in a copy of this context: the queries it asks for see the ORM's context.
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(write_archive,), name="notes-export", daemon=True
    )
    thread.start()
    try:
        while (item := await chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            room.release()
            yield item
    finally:
        # Done, failed, or the client disconnected: a thread waiting for room wakes and stops.
        stopped.set()
        room.release()
