"""Reads from a real streaming replica (DATABASE_REPLICA_URLS), under real uvicorn.

The primary and the replica are clusters of their own (tests/replication.py); the replica applies WAL
APPLY_DELAY seconds late, so for that long after a write the replica really does not have it. That is
what lets a test tell where a read was served: a note the replica has not replayed yet is 404 there.
PostgreSQL runs only (the clusters take seconds to make), like the other server tests.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from notes_app.config import Settings
from notes_app.main import create_app
from notes_app.replicas import COOKIE, ReplicaRouting, parse_lsn, read_connection
from tests.conftest import TEST_SECRET_KEY, asyncpg_dsn
from tests.replication import ReplicatedClusters, postgres_bin_dir
from tests.support import run_python
from tests.test_outage import Server, log_in, start_server

# Long enough that a few requests after a write surely run before the replica replays it, on a busy machine.
APPLY_DELAY = 6.0
# Only against a hang: replaying takes APPLY_DELAY, a busy machine a little more.
CATCH_UP_BOUND = APPLY_DELAY + 60


@pytest.fixture(scope="module")
async def clusters(settings: Settings) -> AsyncIterator[ReplicatedClusters]:
    if settings.dialect != "postgres":
        pytest.skip("replicas are PostgreSQL's: run with TEST_DATABASE_URL")
    if postgres_bin_dir() is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_basebackup, pg_ctl) on this machine")
    made = ReplicatedClusters(apply_delay=APPLY_DELAY)
    try:
        made.start()
        await _create_database(made.url(made.primary_port))
        run_python("-m", "notes_app.migrate", database_url=made.url(made.primary_port, "notes"))
        yield made
    finally:
        made.close()


async def _create_database(url: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("CREATE DATABASE notes")
    finally:
        await connection.close()


async def replayed(clusters: ReplicatedClusters) -> None:
    """Returns once the replica has replayed everything the primary has written so far."""
    primary = await asyncpg.connect(asyncpg_dsn(clusters.url(clusters.primary_port)))
    replica = await asyncpg.connect(asyncpg_dsn(clusters.url(clusters.replica_port)))
    try:
        target = parse_lsn(await primary.fetchval("SELECT pg_current_wal_insert_lsn()::text"))
        deadline = time.monotonic() + CATCH_UP_BOUND
        while parse_lsn(await replica.fetchval("SELECT pg_last_wal_replay_lsn()::text")) < target:
            assert time.monotonic() < deadline, "the replica never caught up"
            await asyncio.sleep(0.1)
    finally:
        await primary.close()
        await replica.close()


async def replica_has(clusters: ReplicatedClusters, table: str, row_id: int) -> bool:
    """Whether the replica has replayed the row `row_id` of `table` (yet, or still)."""
    replica = await asyncpg.connect(asyncpg_dsn(clusters.url(clusters.replica_port, "notes")))
    try:
        return bool(await replica.fetchval(f'SELECT count(*) FROM "{table}" WHERE "id" = $1', row_id))
    finally:
        await replica.close()


async def logged(server: Server, text: str) -> None:
    deadline = time.monotonic() + CATCH_UP_BOUND  # only against a hang
    while text not in server.log.read_text():
        assert time.monotonic() < deadline, f"never logged {text!r}:\n{server.log.read_text()}"
        await asyncio.sleep(0.05)


async def serve(clusters: ReplicatedClusters, log: Path, *, max_lag: float, replica_url: str | None = None) -> Server:
    return await start_server(
        clusters.url(clusters.primary_port, "notes"),
        log,
        extra_env={
            "DATABASE_REPLICA_URLS": replica_url or clusters.url(clusters.replica_port, "notes"),
            "REPLICA_MAX_LAG_SECONDS": str(max_lag),
            "REPLICA_CHECK_SECONDS": "0.2",
        },
    )


@pytest.fixture
async def server(clusters: ReplicatedClusters, tmp_path: Path) -> AsyncIterator[Server]:
    # A lag limit far above APPLY_DELAY: the replica stays in use however far behind it is here.
    running = await serve(clusters, tmp_path / "uvicorn.log", max_lag=600)
    yield running
    await running.stop()


async def test_a_caller_reads_its_own_writes_while_other_reads_come_from_the_lagging_replica(
    server: Server, clusters: ReplicatedClusters
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as writer:
        await log_in(writer, "replicated")
        await replayed(clusters)  # the account is on the replica: only the note will be missing there
        await writer.get("/notes")  # starts the first check of the replica
        await logged(server, "replica replica_0 is in use")
        async with httpx.AsyncClient(base_url=server.base_url, headers=writer.headers, timeout=30) as elsewhere:
            created = await writer.post("/notes", json={"title": "fresh"})
            note_id = created.json()["id"]
            own_read = await writer.get(f"/notes/{note_id}")
            own_list = await writer.get("/notes")
            # The same account without the cookie (another device): served by the replica, still behind.
            other_read = await elsewhere.get(f"/notes/{note_id}")
            other_list = await elsewhere.get("/notes")
            elsewhere.cookies.set(COOKIE, writer.cookies[COOKIE].replace(".", "0.", 1))
            forged = await elsewhere.get(f"/notes/{note_id}")
            elsewhere.cookies.clear()
            # A write, and the read of the note it starts with, go to the primary whatever the replica lacks.
            other_write = await elsewhere.patch(f"/notes/{note_id}", json={"body": "from elsewhere"})
            elsewhere.cookies.clear()
            replica_behind = not await replica_has(clusters, "note", note_id)
            await replayed(clusters)
            other_read_later = await elsewhere.get(f"/notes/{note_id}")

    assert created.status_code == 201
    assert "max-age" in created.headers["set-cookie"].lower()
    assert own_read.status_code == 200
    assert "set-cookie" not in own_read.headers  # reads leave no position (the OpenAPI document says so too)
    assert [note["id"] for note in own_list.json()["items"]] == [note_id]
    assert replica_behind, f"the replica replayed the write within {APPLY_DELAY} s: the test proves nothing"
    assert other_read.status_code == 404
    assert other_list.json()["items"] == []
    assert forged.status_code == 404  # an altered position is ignored, not trusted
    assert other_write.status_code == 200, server.log.read_text()
    assert other_read_later.status_code == 200


async def test_a_revoked_session_or_token_is_refused_at_once_though_the_replica_still_has_it(
    server: Server, clusters: ReplicatedClusters
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as session:
        await log_in(session, "revoking")
        session_id = (await session.get("/users/me/sessions")).json()["items"][0]["id"]
        created = (await session.post("/users/me/tokens", json={"name": "script", "scopes": ["notes:read"]})).json()
        note_id = (await session.post("/notes", json={"title": "kept from the revoked"})).json()["id"]
        await replayed(clusters)
        session.cookies.clear()  # reads may go to the replica: it has everything so far
        await session.get("/notes")
        await logged(server, "replica replica_0 is in use")
        async with httpx.AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {created['token']}"}, timeout=30
        ) as token:
            before = [await client.get(f"/notes/{note_id}") for client in (session, token)]
            revoked_token = await session.delete(f"/users/me/tokens/{created['id']}")
            logged_out = await session.post("/auth/logout")
            session.cookies.clear()  # a thief holds the credential, not the revoker's cookie
            after = [await client.get(path) for client in (session, token) for path in (f"/notes/{note_id}", "/notes")]
            replica_behind = await replica_has(clusters, "user_session", session_id) and await replica_has(
                clusters, "personal_access_token", created["id"]
            )

    assert [read.status_code for read in before] == [200, 200]
    assert revoked_token.status_code == 204
    assert logged_out.status_code == 204
    assert replica_behind, f"the replica replayed the revocations within {APPLY_DELAY} s: the test proves nothing"
    assert [read.status_code for read in after] == [401] * 4


async def test_a_replica_lagging_past_the_limit_is_skipped_and_logged_once(
    clusters: ReplicatedClusters, tmp_path: Path
) -> None:
    server = await serve(clusters, tmp_path / "uvicorn.log", max_lag=1)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as writer:
            await log_in(writer, "lagging")
            await replayed(clusters)
            await writer.get("/notes")
            await logged(server, "replica replica_0 is in use")
            note_id = (await writer.post("/notes", json={"title": "lagging"})).json()["id"]
            async with httpx.AsyncClient(base_url=server.base_url, headers=writer.headers, timeout=30) as elsewhere:
                # Once the replica is more than 1 s behind it is skipped: the read reaches the primary.
                deadline = time.monotonic() + CATCH_UP_BOUND
                while (read := await elsewhere.get(f"/notes/{note_id}")).status_code == 404:
                    assert time.monotonic() < deadline, "the lagging replica was never skipped"
                    await asyncio.sleep(0.1)
                replica_behind = not await replica_has(clusters, "note", note_id)
                for _ in range(3):
                    await elsewhere.get("/notes")
    finally:
        await server.stop()

    assert read.status_code == 200
    assert replica_behind, f"the replica replayed the write within {APPLY_DELAY} s: the test proves nothing"
    after_in_use = server.output.rsplit("replica replica_0 is in use", 1)[1]
    assert after_in_use.count("replica replica_0 skipped") == 1, server.output


async def test_a_stopped_replica_is_skipped_logged_once_and_never_a_503(
    server: Server, clusters: ReplicatedClusters
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        await log_in(client, "stopped")
        note_id = (await client.post("/notes", json={"title": "kept"})).json()["id"]
        await replayed(clusters)
        client.cookies.clear()  # no fresh write to wait for: reads may go to the replica
        await client.get("/notes")
        await logged(server, "replica replica_0 is in use")
        clusters.stop_replica()
        try:
            reads = []
            for _ in range(4):
                reads.append(await client.get(f"/notes/{note_id}"))
                reads.append(await client.get("/notes"))
        finally:
            clusters.start_replica()
    await server.stop()

    assert [read.status_code for read in reads] == [200] * 8
    # Once after it stopped (a first check, while the new replica still lacked the database, may have
    # skipped it before).
    after_in_use = server.output.rsplit("replica replica_0 is in use", 1)[1]
    assert after_in_use.count("replica replica_0 skipped") == 1, server.output


async def test_a_replica_url_where_nothing_listens_is_skipped_and_logged_once(
    clusters: ReplicatedClusters, tmp_path: Path
) -> None:
    server = await serve(
        clusters, tmp_path / "uvicorn.log", max_lag=600, replica_url="postgres://postgres@127.0.0.1:1/notes"
    )
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            await log_in(client, "nowhere")
            note_id = (await client.post("/notes", json={"title": "on the primary"})).json()["id"]
            client.cookies.clear()
            reads = []
            for _ in range(4):
                reads.append(await client.get(f"/notes/{note_id}"))
                reads.append(await client.get("/notes", params={"q": "primary"}))
                await asyncio.sleep(0.2)  # let a check or two run
    finally:
        await server.stop()

    assert [read.status_code for read in reads] == [200] * 8
    assert server.output.count("replica replica_0 skipped") == 1, server.output


def test_replicas_need_a_postgresql_primary_and_postgresql_replicas(settings: Settings) -> None:
    with pytest.raises(ValueError, match="needs a PostgreSQL DATABASE_URL"):
        create_app(Settings(database_url="sqlite://:memory:", database_replica_urls="postgres://r/notes"))
    with pytest.raises(ValueError, match="each replica is a postgres:// URL"):
        create_app(
            Settings(
                database_url="postgres://p/notes",
                database_replica_urls="sqlite://replica.db",
                secret_key=SecretStr(TEST_SECRET_KEY),
            )
        )


def test_without_replicas_nothing_routes_reads(settings: Settings) -> None:
    # The hot path stays as it was: no routing middleware, and reads use the default connection.
    app = create_app(settings)
    assert not any(middleware.cls is ReplicaRouting for middleware in app.user_middleware)
    assert read_connection() is None
