"""Two workers of the production command (`notes_app`, WEB_CONCURRENCY=2) behind a real PgBouncer in
transaction mode (DB_PGBOUNCER=true), the feed's LISTEN connection direct (DATABASE_LISTEN_URL): the
background work each worker runs does each unit once, and what one worker does reaches the other.

Which worker answered a request is in its X-Request-ID: a random prefix per process and a counter
(notes_app/observability.py). A keep-alive connection stays with the worker that accepted it, so
`pinned_clients` opens connections until it holds some to each worker, and each test checks that the
answers it relies on came from the worker it meant.

PostgreSQL only, like the other server tests; skipped, saying why, without the pgbouncer binary.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import asyncpg
import httpx
import orjson
import pytest

from notes_app.config import Settings
from tests.conftest import PostgresServer, asyncpg_dsn
from tests.pgbouncer import PgBouncer, pgbouncer_binary
from tests.support import run_python
from tests.sync.receiver import Received, Receiver, serving
from tests.test_outage import Server, start_server
from tests.test_serve import SERVE, wait_for_output
from tests.transfer.support import read_zip

WORKERS = 2
# Only against a hang: every wait below ends on an observed state, long before this on any machine.
HANG_GUARD = 60.0
# A long poll held this long answers empty when no wake-up reaches it: the failure the tests look for.
POLL_WAIT = 30
PASSWORD = "two workers, one pgbouncer"


@dataclass
class Deployment:
    server: Server
    direct_url: str  # the database itself, for the tests' own reads and locks
    database: str


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Polls `condition` until it holds. A state observed, never a duration: HANG_GUARD only stops a hung
    test (asyncio.timeout raises TimeoutError, naming the condition in the traceback)."""
    # Polled, not awaited on an Event: the state is in the servers' processes and their database.
    async with asyncio.timeout(HANG_GUARD):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)


def worker_of(response: httpx.Response) -> str:
    """Which worker process answered: the per-process prefix of the request id it gave."""
    return response.headers["x-request-id"][:16]


@pytest.fixture(scope="module")
async def deployment(
    settings: Settings, postgres: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    if postgres is None:
        pytest.skip("PgBouncer fronts PostgreSQL: run with TEST_DATABASE_URL")
    if pgbouncer_binary() is None:
        pytest.skip("the pgbouncer binary is not installed and this machine could not install it (.ci/run does)")
    url = await postgres.create("notes_workers")
    bouncer = PgBouncer(url)
    log = tmp_path_factory.mktemp("workers") / "serve.log"
    try:
        run_python("-m", "notes_app.migrate", database_url=url)
        bouncer.start()
        server = await start_server(
            bouncer.url(url),
            log,
            command=SERVE,
            extra_env={
                "WEB_CONCURRENCY": str(WORKERS),
                "DB_PGBOUNCER": "true",
                "DATABASE_LISTEN_URL": url,
                # The purge held on a lock (test_each_trashed_note_is_purged_once...) must not time out.
                "DB_COMMAND_TIMEOUT": str(HANG_GUARD),
                "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                "WEBHOOK_POLL_SECONDS": "0.1",
                "WEBHOOK_RETRY_BASE_SECONDS": "0.1",
                # One attempt in flight per worker: two in flight at once means both workers deliver.
                "WEBHOOK_DELIVERY_CONCURRENCY": "1",
                # Everything trashed has expired; one note per purge transaction.
                "TRASH_RETENTION_DAYS": "0",
                "PURGE_INTERVAL_SECONDS": "0.1",
                "PURGE_BATCH_SIZE": "1",
            },
        )
        try:
            await wait_for_output(server, "Application startup complete", count=WORKERS)
            yield Deployment(server=server, direct_url=url, database=url.rsplit("/", 1)[1])
        finally:
            await server.stop()
        assert server.output.count("Started server process") == WORKERS, server.output
        assert "Traceback" not in server.output, server.output
        assert "DATABASE_LISTEN_URL" not in server.output  # no warning: the listener is direct
    finally:
        bouncer.close()
        await postgres.drop(url)


async def sign_up(deployment: Deployment, username: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=deployment.server.base_url, timeout=HANG_GUARD) as client:
        created = await client.post("/users", json={"username": username, "password": PASSWORD})
        assert created.status_code == 201, created.text
        login = await client.post("/auth/token", data={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def pinned_clients(
    stack: AsyncExitStack, deployment: Deployment, headers: dict[str, str], per_worker: int = 1
) -> dict[str, list[httpx.AsyncClient]]:
    """`per_worker` clients of one keep-alive connection each, to every worker, by worker."""
    pinned: dict[str, list[httpx.AsyncClient]] = {}
    async with asyncio.timeout(HANG_GUARD):  # the kernel spreads new connections over both workers
        while len(pinned) < WORKERS or any(len(clients) < per_worker for clients in pinned.values()):
            client = httpx.AsyncClient(
                base_url=deployment.server.base_url,
                headers=headers,
                timeout=HANG_GUARD,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            worker = worker_of(await client.get("/health/live"))
            if len(pinned.setdefault(worker, [])) < per_worker:
                pinned[worker].append(client)
                stack.push_async_callback(client.aclose)
            else:
                await client.aclose()
    return pinned


async def fetch(deployment: Deployment, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(asyncpg_dsn(deployment.direct_url))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def feed_waiters(client: httpx.AsyncClient) -> float:
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith("notes_feed_waiters "):
            return float(line.split()[1])
    raise AssertionError("no notes_feed_waiters in /metrics")


async def test_a_write_handled_by_one_worker_wakes_a_long_poll_held_by_the_other(deployment: Deployment) -> None:
    headers = await sign_up(deployment, "poller")
    async with AsyncExitStack() as stack:
        # Per worker: one connection holds the poll, one watches its metrics, one writes.
        workers = await pinned_clients(stack, deployment, headers, per_worker=3)
        first, second = sorted(workers)
        rounds = []
        for polled, written in ((first, second), (second, first)):
            holding, watching, _ = workers[polled]
            writing = workers[written][2]
            cursor = (await holding.get("/notes/changes")).json()["cursor"]
            poll = asyncio.create_task(holding.get("/notes/changes", params={"cursor": cursor, "wait": POLL_WAIT}))
            async with asyncio.timeout(HANG_GUARD):
                while await feed_waiters(watching) != 1:  # noqa: ASYNC110 - another process: only /metrics tells
                    await asyncio.sleep(0.02)
            created = await writing.post("/notes", json={"title": f"written by {written}"})
            rounds.append((polled, written, created, await poll))

    for polled, written, created, answer in rounds:
        assert created.status_code == 201, created.text
        assert worker_of(created) == written
        assert worker_of(answer) == polled
        # Without a wake-up from the other worker the poll would have answered empty after POLL_WAIT.
        assert answer.json()["changes"] == [{"type": "upsert", "note": created.json()}]


async def test_each_webhook_event_is_delivered_once_by_two_workers_retries_included(deployment: Deployment) -> None:
    notes = 24
    retried = {f"retried {i}" for i in range(0, notes, 3)}  # answered 503 the first time
    requests: Counter[str] = Counter()
    delivered: Counter[str] = Counter()  # 2xx answers, per event
    in_flight = 0
    two_at_once = asyncio.Event()

    async def respond(request: Received) -> tuple[int, dict[str, str]]:
        nonlocal in_flight
        event = request.headers["webhook-id"]
        requests[event] += 1
        # The first attempt waits here until a second is in flight beside it: with one attempt in flight
        # per worker (WEBHOOK_DELIVERY_CONCURRENCY=1), that second one is the other worker's.
        in_flight += 1
        if in_flight >= 2:
            two_at_once.set()
        try:
            await two_at_once.wait()
        finally:
            in_flight -= 1
        title = orjson.loads(request.body)["data"]["note"]["title"]
        if title in retried and requests[event] == 1:
            return 503, {}
        delivered[event] += 1
        return 204, {}

    headers = await sign_up(deployment, "hooked")
    async with (
        serving(Receiver(respond=respond)) as receiver,
        httpx.AsyncClient(base_url=deployment.server.base_url, headers=headers, timeout=HANG_GUARD) as client,
    ):
        hook = await client.post("/webhooks", json={"url": receiver.url()})
        assert hook.status_code == 201, hook.text
        titles = [f"retried {i}" if f"retried {i}" in retried else f"once {i}" for i in range(notes)]
        created = await client.post("/notes/bulk", json={"notes": [{"title": title} for title in titles]})
        assert created.status_code == 201, created.text
        await asyncio.wait_for(two_at_once.wait(), HANG_GUARD)
        await receiver.until(notes + len(retried), seconds=HANG_GUARD)

        # Every event settled (delivered, or given up): no attempt is claimed or due any more, so no
        # request can still arrive after the counts below are read.
        async def outbox_drained() -> bool:
            return not await fetch(deployment, 'SELECT 1 FROM "webhook_event" WHERE "next_attempt_at" IS NOT NULL')

        await until(outbox_drained)
        recorded = await fetch(
            deployment,
            'SELECT \'msg_\' || "e"."id" AS "event", "e"."delivered_at" IS NOT NULL AS "delivered", '
            'count("a"."id") AS "attempts", count("a"."id") FILTER (WHERE "a"."status" = 204) AS "successes" '
            'FROM "webhook_event" AS "e" LEFT JOIN "webhook_attempt" AS "a" ON "a"."event_id" = "e"."id" '
            'GROUP BY "e"."id"',
        )

    assert len(recorded) == notes  # one note.created event per note
    by_event = {row["event"]: row for row in recorded}
    assert set(requests) == set(by_event)
    assert delivered == Counter(dict.fromkeys(by_event, 1)), "an event was delivered twice, or never"
    title_of = {r.headers["webhook-id"]: orjson.loads(r.body)["data"]["note"]["title"] for r in receiver.received}
    assert requests == Counter({event: 2 if title_of[event] in retried else 1 for event in by_event})
    # Each attempt the receiver saw was made, and recorded, by exactly one worker.
    assert all(row["delivered"] and row["successes"] == 1 for row in recorded)
    assert {row["event"]: row["attempts"] for row in recorded} == dict(requests)


async def test_each_trashed_note_is_purged_once_while_both_workers_purge(deployment: Deployment) -> None:
    notes = 10
    headers = await sign_up(deployment, "purged")
    async with httpx.AsyncClient(base_url=deployment.server.base_url, headers=headers, timeout=HANG_GUARD) as client:
        created = await client.post("/notes/bulk", json={"notes": [{"title": f"purged {i}"} for i in range(notes)]})
        assert created.status_code == 201, created.text
        ids = [note["id"] for note in created.json()["items"]]
        owner = (await client.get("/users/me")).json()["id"]
        # Hold the purge: deleting a note deletes its revisions (ON DELETE CASCADE), and this transaction
        # holds those rows. Trashing touches no revision, so it goes through.
        holder = await asyncpg.connect(asyncpg_dsn(deployment.direct_url))
        try:
            async with holder.transaction():
                await holder.execute('SELECT 1 FROM "note_revision" WHERE "note_id" = ANY($1) FOR UPDATE', ids)
                for note_id in ids:
                    assert (await client.delete(f"/notes/{note_id}")).status_code == 204

                # Each worker purges one note at a time (PURGE_BATCH_SIZE=1) and claims it FOR UPDATE SKIP
                # LOCKED: two purges waiting here at once are both workers', on two different notes.
                async def both_purging() -> bool:
                    return len(await purges_waiting(deployment)) >= WORKERS

                await until(both_purging)
                seq_before = await fetch(deployment, 'SELECT "seq" FROM "change_counter" WHERE "owner_id" = $1', owner)
        finally:
            await holder.close()

        async def trash_purged() -> bool:
            return not (await client.get("/trash")).json()["items"]

        await until(trash_purged)
        changes = (await client.get("/notes/changes", params={"limit": 100})).json()["changes"]

    tombstones = await fetch(deployment, 'SELECT "note_id" FROM "note_tombstone" WHERE "owner_id" = $1', owner)
    [seq_after] = await fetch(deployment, 'SELECT "seq" FROM "change_counter" WHERE "owner_id" = $1', owner)
    assert sorted(row["note_id"] for row in tombstones) == ids
    # One change number for the bulk create and one per trashing, then exactly one per purge transaction:
    # no note was purged by two, and no purge recorded a change it did not make.
    assert seq_before[0]["seq"] == 1 + notes
    assert seq_after["seq"] == 1 + notes + notes
    assert changes == [{"type": "delete", "id": note_id} for note_id in ids]


async def purges_waiting(deployment: Deployment) -> list[asyncpg.Record]:
    """Purge statements of the deployment's database waiting on a lock."""
    return await fetch(
        deployment,
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' "
        "AND query LIKE 'DELETE FROM \"note\"%'",
        deployment.database,
    )


async def test_an_export_downloads_through_pgbouncer_from_either_worker(deployment: Deployment) -> None:
    notes = 450  # three of the export's 200-note batches, each its own statement
    headers = await sign_up(deployment, "exported")
    async with AsyncExitStack() as stack:
        workers = await pinned_clients(stack, deployment, headers)
        first, second = (clients[0] for clients in workers.values())
        created = await first.post("/notes/bulk", json={"notes": [{"title": f"exported {i}"} for i in range(notes)]})
        assert created.status_code == 201, created.text
        exports = [await client.get("/export") for client in (first, second)]

    assert {worker_of(export) for export in exports} == set(workers)
    assert [export.status_code for export in exports] == [200, 200]
    archives = [read_zip(export.content) for export in exports]
    assert archives[0] == archives[1]
    assert len(archives[0]) == notes
    assert sorted(body.split(b"\n")[1] for body in archives[0].values()) == sorted(
        f'title: "exported {i}"'.encode() for i in range(notes)
    )
