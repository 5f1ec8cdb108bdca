"""GET /export, free of HTTP: every note of an owner as Markdown files in a ZIP, streamed as it is written,
in memory that does not grow with the number of notes.

A ZIP ends with a central directory that lists every file (name, CRC, sizes, offset). Instead of keeping
those records until the end (0.4 KB per note), the export reads the notes twice in the same order: the
first pass writes each file, the second computes each file's record again (the same note gives the same
name and bytes, so the same CRC, compressed size and offset) and writes the directory (ziprecords.py).
Names are kept unique by a filter of fixed size that each pass rebuilds identically (filenames.py).

Both passes must see the same notes. On PostgreSQL they read one snapshot: a REPEATABLE READ, READ ONLY
transaction held for the download, so a note written meanwhile is in neither pass (the next export has
it) and writers are never blocked. SQLite has no snapshot that would not stop the whole process (Tortoise
keeps one SQLite connection, and a transaction holds it), so there each batch is read when needed. On
both, a digest of the records the first pass wrote is compared with the second pass's before the archive
is closed: notes that changed between the passes cut the download rather than end it with a directory
that does not match its files (on PostgreSQL this is a guard that never fires).

Notes are read in keyset batches (the listing's own query, oldest first, live notes then archived ones),
the first before the response starts, so a database that is down is a 503 and not a broken download. The
ZIP is written in one worker thread per export: rendering front matter, deflating and CRCs are CPU work
that would otherwise stall the event loop. The thread asks the event loop for each next batch, and hands
chunks back through a queue a few chunks deep, so a slow client slows the thread down rather than
filling memory.
"""

import asyncio
import contextvars
import hashlib
import stat
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from notes_app.errors import RETRY_AFTER_SECONDS, ProblemError
from notes_app.notes.listing import NoteFilters, page_query
from notes_app.notes.models import Note
from notes_app.notes.pagination import SORTS, Cursor
from notes_app.replicas import PRIMARY_ALIAS
from notes_app.transfer.filenames import UniqueNames
from notes_app.transfer.frontmatter import render_note
from notes_app.transfer.ziprecords import Entry, central_record, end_records, entry_for, local_header
from notes_app.users.credentials import Caller, ensure_alive

# Notes per query. A batch of the largest notes (100,000 characters) is ~80 MB of text at most.
EXPORT_BATCH = 200
_FIELDS = ("id", "title", "body", "tags", "pinned", "archived", "created_at", "updated_at")
# Oldest first, by the (owner_id, archived, created_at, id) index the listing uses.
_ORDER = SORTS["created_at"]
_CHUNK_BYTES = 64 * 1024
_CHUNKS_AHEAD = 4
# A download that takes no chunk for this long is cut: a client that stopped reading must not hold a
# database connection and its snapshot for ever.
STALLED_SECONDS = 600.0
# And one that lasts this long in all, however steadily its client reads: on PostgreSQL its snapshot
# holds back VACUUM (the rows it could still read are kept) for as long as it lasts.
DEADLINE_SECONDS = 3600.0
# PostgreSQL ends the snapshot itself if the process stops using it (hung or gone) for longer than the
# stall limit: set here, so a server default (managed services set one) neither cuts downloads earlier
# than the stall limit nor leaves an abandoned one open.
_IDLE_IN_SNAPSHOT_MS = round((STALLED_SECONDS + 60) * 1000)
_FILE_MODE = stat.S_IFREG | 0o644

Row = dict[str, Any]
# Where a batch starts: archived or not, and after which note (None: from the first).
Position = tuple[bool, Cursor | None]
_START: Position = (False, None)


class NotesChangedDuringExport(Exception):
    """The second pass did not find the notes the first pass wrote (SQLite only: no snapshot)."""


class ExportStalled(Exception):
    """The client took no chunk for STALLED_SECONDS."""


class ExportTooLong(Exception):
    """The download lasted DEADLINE_SECONDS."""


class _Stopped(Exception):
    """The download was stopped (client gone, server shutting down): the thread reads no more."""


class TooManyExports(ProblemError):
    status = 503


# Downloads holding a snapshot in this process. Each takes two pool connections: its snapshot's, for as
# long as its client takes, and, once per batch, another for the credential check, which must not read
# the snapshot (read_batch). At most half the pool is held by snapshots, so the downloads' checks always
# find a connection (k downloads need at most 2k <= pool connections: they cannot wait for one another),
# and other requests wait at most for a check. A pool of 1 runs no download: 503.
_snapshots_held = 0


def export_slots(pool_max: int) -> int:
    return pool_max // 2


def _reads_a_snapshot() -> bool:
    return Note._meta.db.capabilities.dialect == "postgres"


@asynccontextmanager
async def _snapshot() -> AsyncIterator[BaseDBAsyncClient | None]:
    """The connection both passes read through: a read-only snapshot on PostgreSQL, None on SQLite."""
    if not _reads_a_snapshot():
        yield None
        return
    # The primary, not a replica: a long snapshot on a hot standby is cancelled by replication conflicts.
    async with in_transaction(PRIMARY_ALIAS) as connection:
        # The transaction's first statement, as PostgreSQL requires; SET LOCAL ends with the transaction.
        await connection.execute_script(
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;"
            f" SET LOCAL idle_in_transaction_session_timeout = {_IDLE_IN_SNAPSHOT_MS}"
        )
        yield connection


async def read_batch(*, caller: Caller, snapshot: BaseDBAsyncClient | None, position: Position) -> list[Row]:
    """Up to EXPORT_BATCH + 1 notes from `position` (the listing's page query, lookahead included), then
    a check that the caller's session or token is still alive: a credential revoked during a download
    breaks the download within a batch (401 before the first byte, a cut connection after) instead of
    ending a ZIP that would look complete. The first batch's check runs in the snapshot (it is read in
    the snapshot's transaction), which has just begun, so sees the credential as it is now; every later
    one runs outside it, on a connection of its own, because the snapshot would still see a credential
    revoked after it began."""
    archived, after = position
    query = page_query(
        caller=caller, filters=NoteFilters(archived=archived), sort=_ORDER, limit=EXPORT_BATCH, after=after
    )
    rows: list[Row] = await (query if snapshot is None else query.using_db(snapshot)).values(*_FIELDS)
    await ensure_alive(caller)
    return rows


def _next_position(position: Position, rows: list[Row]) -> Position | None:
    archived, _ = position
    if len(rows) > EXPORT_BATCH:
        last = rows[-1]
        return archived, Cursor(value=last["created_at"], id=last["id"])
    return (True, None) if not archived else None


def _entries(first: list[Row], read_next: Callable[[Position], list[Row]]) -> Iterator[tuple[Entry, bytes]]:
    """One pass: every note's entry, at its offset in the archive, and its deflated content."""
    names = UniqueNames()
    offset = 0
    position: Position | None = _START
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
            entry, data = entry_for(
                name=name, modified=row["updated_at"], mode=_FILE_MODE, content=content, offset=offset
            )
            offset += entry.local_size
            yield entry, data
        position = _next_position(position, rows)
        if position is not None:
            rows = read_next(position)


def _archive(first: list[Row], read_next: Callable[[Position], list[Row]]) -> Iterator[bytes]:
    """The archive's bytes: the files (first pass), the central directory (second pass), the end."""
    written = hashlib.blake2b()
    count = directory_offset = 0
    for entry, data in _entries(first, read_next):
        written.update(central_record(entry))
        count += 1
        directory_offset = entry.offset + entry.local_size
        yield local_header(entry)
        yield data
    listed = hashlib.blake2b()
    directory_size = 0
    for entry, _ in _entries(read_next(_START), read_next):
        record = central_record(entry)
        listed.update(record)
        directory_size += len(record)
        yield record
    # The records hold every name, CRC, size and offset: equal digests mean the same files, in order.
    if listed.digest() != written.digest():
        raise NotesChangedDuringExport("notes changed during the export: download it again")
    yield end_records(count=count, directory_offset=directory_offset, directory_size=directory_size)


def _chunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= _CHUNK_BYTES:
            yield bytes(buffer[:_CHUNK_BYTES])
            del buffer[:_CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)


async def export_archive(*, caller: Caller, pool_max: int) -> AsyncIterator[bytes]:
    """Opens the snapshot and reads the first batch now, so a database that is down is a 503 and not a
    broken download, and returns the archive's chunks. 503 while export_slots(pool_max) downloads hold
    a snapshot already (always, with a pool of one connection)."""
    global _snapshots_held
    holds_slot = _reads_a_snapshot()
    if holds_slot:
        slots = export_slots(pool_max)
        if _snapshots_held >= slots:
            raise TooManyExports(
                "too many exports are in progress: retry after the delay in Retry-After"
                if slots
                else "exports need a database pool of at least 2 connections (DB_POOL_MAX)",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        _snapshots_held += 1  # taken here, with no await since the check; given back by the snapshot's task
    download = _Download(caller, holds_slot=holds_slot)
    await download.start()
    chunks = download.chunks()
    # A response that is never iterated (the client left before it started) still ends the download.
    weakref.finalize(chunks, download.stop)
    return chunks


def _why_cut(deadline: float) -> Exception:
    if time.monotonic() >= deadline:
        return ExportTooLong(f"the download lasted {DEADLINE_SECONDS:.0f} s, the longest allowed")
    return ExportStalled(f"the client took nothing for {STALLED_SECONDS:.0f} s")


def _give_back_slot() -> None:
    global _snapshots_held
    _snapshots_held -= 1


class _Download:
    """One export in flight: a task holding the snapshot, the thread writing the archive, and the queue
    between that thread and the response."""

    def __init__(self, caller: Caller, *, holds_slot: bool) -> None:
        self.caller = caller
        self.holds_slot = holds_slot
        self.loop = asyncio.get_running_loop()
        # The thread's batch reads run in the request's context, where no transaction is set: only the
        # notes query goes to the snapshot, the credential check does not.
        self.context = contextvars.copy_context()
        self.queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        self.room = threading.Semaphore(_CHUNKS_AHEAD)
        self.stopped = threading.Event()
        self.holder: asyncio.Task[None] | None = None

    async def start(self) -> None:
        first: asyncio.Future[None] = self.loop.create_future()
        self.holder = asyncio.create_task(self._hold_snapshot(first))
        try:
            await first
        except BaseException:
            # Failed, or cancelled (the client left): a snapshot still opening closes, a thread stops.
            self.stop()
            self.holder.cancel()
            raise

    def stop(self) -> None:
        # A thread waiting for room wakes and stops.
        self.stopped.set()
        self.room.release()

    async def _hold_snapshot(self, first: asyncio.Future[None]) -> None:
        finished: asyncio.Future[None] = self.loop.create_future()
        try:
            async with _snapshot() as snapshot:
                rows = await read_batch(caller=self.caller, snapshot=snapshot, position=_START)
                thread = threading.Thread(
                    target=self.context.run, args=(self._write, rows, snapshot, finished), name="notes-export"
                )
                thread.daemon = True
                thread.start()
                # Both waits shielded: cancelling this task must not cancel `finished`, which only the
                # thread's end settles.
                try:
                    if not first.done():  # cancelled when start() was
                        first.set_result(None)
                    await asyncio.shield(finished)
                finally:
                    # Cancelled (the client left before the first byte, or the server is shutting down):
                    # the thread stops at its next chunk or read, and the snapshot is rolled back and its
                    # connection released only once the thread is done, never under a read in flight.
                    self.stop()
                    await asyncio.shield(finished)
        except Exception as exc:
            if first.done():
                self._hand_over(exc)  # the snapshot's connection failed after the response started
            else:
                first.set_exception(exc)
        finally:
            self.stop()  # when the first read failed, before a thread began
            if self.holds_slot:
                _give_back_slot()

    def _write(self, first: list[Row], snapshot: BaseDBAsyncClient | None, finished: asyncio.Future[None]) -> None:
        def read_next(position: Position) -> list[Row]:
            if self.stopped.is_set():
                raise _Stopped  # the second pass may read several batches between two chunks
            # The query runs on the event loop: the ORM's connections live there.
            batch = read_batch(caller=self.caller, snapshot=snapshot, position=position)
            return asyncio.run_coroutine_threadsafe(batch, self.loop).result()

        deadline = time.monotonic() + DEADLINE_SECONDS
        try:
            for chunk in _chunked(_archive(first, read_next)):
                left = deadline - time.monotonic()
                if left <= 0 or not self.room.acquire(timeout=min(STALLED_SECONDS, left)):
                    raise _why_cut(deadline)
                if self.stopped.is_set():
                    return  # the client went away
                self._hand_over(chunk)
            self._hand_over(None)
        except _Stopped:
            return
        except Exception as exc:  # handed to the response, which raises it in the request's task
            self._hand_over(exc)
        finally:
            self._call_soon(finished.set_result, None)

    def _hand_over(self, item: bytes | BaseException | None) -> None:
        self._call_soon(self.queue.put_nowait, item)

    def _call_soon(self, callback: Callable[..., object], *args: object) -> None:
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the event loop has closed: the server is gone, and so is the client
            self.stopped.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while (item := await self.queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                self.room.release()
                yield item
            if self.holder is not None:
                # The response ends once the snapshot is closed and its connection back in the pool.
                await self.holder
        finally:
            self.stop()
