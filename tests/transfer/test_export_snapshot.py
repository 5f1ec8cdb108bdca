"""What an export sees of notes written while it runs, and what a download that stops costs."""

import asyncio
import zipfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from tortoise import connections

import notes_app.transfer.export as export
from notes_app.config import Settings
from tests.conftest import Account, api_client, assert_problem, create_note
from tests.transfer.support import PATIENCE, RawClient, export_threads, incompressible_notes, read_zip


@pytest.fixture
def held_second_pass(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, asyncio.Event]:
    """(reached, release): the second pass's first read waits for `release` once it has set `reached`."""
    reached, release = asyncio.Event(), asyncio.Event()
    read_batch = export.read_batch
    starts = 0

    async def held(**kwargs: Any) -> Any:
        nonlocal starts
        if kwargs["position"] == export._START:
            starts += 1
            if starts == 2:
                reached.set()
                await release.wait()
        return await read_batch(**kwargs)

    monkeypatch.setattr(export, "read_batch", held)
    return reached, release


async def _write_between_the_passes(
    client: httpx.AsyncClient, raw: RawClient, held_second_pass: tuple[asyncio.Event, asyncio.Event]
) -> asyncio.Task[None]:
    reached, release = held_second_pass
    edited = await create_note(client, title="Edited", body="before")
    await create_note(client, title="Kept", body="kept")
    download = asyncio.create_task(raw.get("/export"))
    try:
        await asyncio.wait_for(reached.wait(), PATIENCE)
        response = await client.patch(f"/notes/{edited['id']}", json={"body": "after"})
        assert response.status_code == 200, response.text
        await create_note(client, title="Created", body="during the export")
    finally:
        release.set()
    return download


async def test_on_postgresql_an_export_is_the_notes_as_they_were_when_it_began(
    client: httpx.AsyncClient,
    settings: Settings,
    alice: Account,
    dialect: str,
    held_second_pass: tuple[asyncio.Event, asyncio.Event],
) -> None:
    if dialect != "postgres":
        pytest.skip("SQLite has no snapshot: see the test below")
    raw = RawClient(settings, alice)

    download = await _write_between_the_passes(client, raw, held_second_pass)
    await asyncio.wait_for(download, PATIENCE)

    # One REPEATABLE READ snapshot: the edit and the new note, committed after it began, are in neither pass.
    files = read_zip(b"".join(raw.chunks))
    assert sorted(files) == ["Edited.md", "Kept.md"]
    assert files["Edited.md"].endswith(b"---\nbefore")


async def test_on_sqlite_a_note_written_between_the_passes_cuts_the_download(
    client: httpx.AsyncClient,
    settings: Settings,
    alice: Account,
    dialect: str,
    held_second_pass: tuple[asyncio.Event, asyncio.Event],
) -> None:
    if dialect != "sqlite":
        pytest.skip("PostgreSQL reads both passes from one snapshot: see the test above")
    raw = RawClient(settings, alice)

    download = await _write_between_the_passes(client, raw, held_second_pass)

    # The directory would not match the files written: the response, already started, is cut (the ASGI
    # server closes the connection), never closed as a valid ZIP.
    with pytest.raises(export.NotesChangedDuringExport):
        await asyncio.wait_for(download, PATIENCE)
    with pytest.raises(zipfile.BadZipFile):
        read_zip(b"".join(raw.chunks))


async def _transactions_left_open() -> int:
    rows = await connections.get("default").execute_query_dict(
        "SELECT count(*) AS open FROM pg_stat_activity"
        " WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
    )
    return int(rows[0]["open"])


async def test_a_client_that_stops_reading_is_cut_and_its_snapshot_released(
    client: httpx.AsyncClient, settings: Settings, alice: Account, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "STALLED_SECONDS", 0.2)
    await incompressible_notes(client, 40)  # far more chunks than the thread may write ahead
    raw = RawClient(settings, alice)
    raw.reading.clear()

    download = asyncio.create_task(raw.get("/export"))
    try:
        await asyncio.wait_for(raw.first_chunk.wait(), PATIENCE)
        for thread in export_threads():
            await asyncio.to_thread(thread.join, PATIENCE)
        assert export_threads() == []
        if dialect == "postgres":
            async with asyncio.timeout(PATIENCE):
                # PostgreSQL's view of its sessions: no event to wait for.
                while await _transactions_left_open():  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
    finally:
        download.cancel()


async def test_downloads_beyond_half_the_pool_are_503_until_one_ends(
    client: httpx.AsyncClient, settings: Settings, alice: Account, dialect: str
) -> None:
    if dialect != "postgres":
        pytest.skip("SQLite downloads hold no connection")
    small_pool = settings.model_copy(update={"db_pool_max": 2})  # one download at a time
    await incompressible_notes(client, 12)  # more than one chunk: the download stays open while unread
    first = RawClient(small_pool, alice)
    first.reading.clear()
    download = asyncio.create_task(first.get("/export"))
    await asyncio.wait_for(first.first_chunk.wait(), PATIENCE)

    async with api_client(small_pool, alice) as second:
        refused = await second.get("/export")
        assert_problem(refused, 503)
        assert refused.headers["retry-after"].isdigit()

        first.reading.set()
        await asyncio.wait_for(download, PATIENCE)
        assert len(read_zip(b"".join(first.chunks))) == 12
        assert (await second.get("/export")).status_code == 200


async def test_a_database_down_when_an_export_starts_is_503_before_the_response_and_holds_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_note(client, title="Kept")

    async def down(**kwargs: Any) -> Any:
        raise ConnectionRefusedError("the database is down")

    with monkeypatch.context() as patched:
        patched.setattr(export, "read_batch", down)
        refused = await client.get("/export")

    assert_problem(refused, 503)
    assert refused.headers["retry-after"].isdigit()
    assert export._snapshots_held == 0
    assert list(read_zip((await client.get("/export")).content)) == ["Kept.md"]


@pytest.mark.parametrize("pool", [1, 2])
async def test_with_a_pool_of_one_or_two_connections_exports_never_wait_for_their_own_connection(
    client: httpx.AsyncClient,
    settings: Settings,
    alice: Account,
    dialect: str,
    monkeypatch: pytest.MonkeyPatch,
    pool: int,
) -> None:
    if dialect != "postgres":
        pytest.skip("SQLite downloads hold no connection")
    # Every batch after the first checks the credential on a second connection while the snapshot holds
    # the first: with a pool of 1 that wait could never end (only the acquire timeout would cut it).
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    for n in range(7):
        await create_note(client, title=f"note {n}")
    small_pool = settings.model_copy(update={"db_pool_max": pool})
    database = connections.get("default")
    async with AsyncExitStack() as held:
        # The session's pool of 10, with only `pool` connections left free.
        for _ in range(settings.db_pool_max - pool):
            await held.enter_async_context(database.acquire_connection())
        async with api_client(small_pool, alice) as http:
            response = await asyncio.wait_for(http.get("/export"), PATIENCE)

    if pool == 1:
        problem = assert_problem(response, 503)
        assert "DB_POOL_MAX" in problem["detail"]
        assert response.headers["retry-after"].isdigit()
    else:
        assert len(read_zip(response.content)) == 7
    assert export._snapshots_held == 0


def _snapshot_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_coro().__qualname__ == "_Download._hold_snapshot"]


async def test_a_snapshot_cancelled_mid_read_is_closed_only_once_its_thread_is_done(
    client: httpx.AsyncClient, settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As at shutdown: the snapshot's task is cancelled while the thread's read of a batch is in flight.
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    for n in range(7):
        await create_note(client, title=f"note {n}")
    reached, release, closing = asyncio.Event(), asyncio.Event(), asyncio.Event()
    outcomes: list[str] = []
    read_batch, snapshot = export.read_batch, export._snapshot

    async def held(**kwargs: Any) -> Any:
        if kwargs["position"] == export._START:
            return await read_batch(**kwargs)
        reached.set()
        await release.wait()
        outcomes.append("closed" if closing.is_set() else "open")
        return await read_batch(**kwargs)

    @asynccontextmanager
    async def watched() -> AsyncIterator[Any]:
        async with snapshot() as connection:
            try:
                yield connection
            finally:
                closing.set()

    monkeypatch.setattr(export, "read_batch", held)
    monkeypatch.setattr(export, "_snapshot", watched)
    raw = RawClient(settings, alice)
    raw.reading.clear()
    download = asyncio.create_task(raw.get("/export"))
    try:
        await asyncio.wait_for(reached.wait(), PATIENCE)
        (holder,) = _snapshot_tasks()
        holder.cancel()
        for _ in range(20):  # let the cancellation reach the task: no event marks it
            await asyncio.sleep(0)
        assert not closing.is_set()
        release.set()
        await asyncio.wait({holder}, timeout=PATIENCE)

        assert holder.cancelled()
        assert outcomes == ["open"]  # the read in flight ran on the open snapshot
        for thread in export_threads():
            await asyncio.to_thread(thread.join, PATIENCE)
        assert export_threads() == []
        assert export._snapshots_held == 0
    finally:
        release.set()
        raw.disconnect.set()
        raw.reading.set()
        download.cancel()


async def test_a_download_is_cut_at_its_deadline_however_fast_its_client_reads(
    client: httpx.AsyncClient, settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "DEADLINE_SECONDS", 0.0)
    await create_note(client, title="Kept")
    raw = RawClient(settings, alice)

    # Cut before its first chunk: the ASGI server closes the connection, no ZIP that looks complete.
    with pytest.raises(export.ExportTooLong):
        await asyncio.wait_for(raw.get("/export"), PATIENCE)

    assert raw.chunks == []
    # The response ended at the error; the snapshot's task closes it and gives the slot back after.
    await asyncio.wait_for(asyncio.gather(*_snapshot_tasks()), PATIENCE)
    assert export._snapshots_held == 0


async def test_the_snapshot_ends_itself_if_the_process_leaves_it_idle(dialect: str) -> None:
    if dialect != "postgres":
        pytest.skip("SQLite has no snapshot")
    async with export._snapshot() as snapshot:
        assert snapshot is not None
        (row,) = await snapshot.execute_query_dict(
            "SELECT setting FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout'"
        )
    # Past the stall limit, after which the thread itself would have ended the download.
    assert int(row["setting"]) == export._IDLE_IN_SNAPSHOT_MS > export.STALLED_SECONDS * 1000
