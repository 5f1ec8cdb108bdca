"""The service behind a real PgBouncer in transaction mode (DB_PGBOUNCER=true), under real uvicorn.

The whole notes and accounts suite also runs through PgBouncer with TEST_PGBOUNCER=1 (.ci/run does);
this module proves, on every PostgreSQL run, what only a real server process shows: the app's own
pool behind PgBouncer, the planner setting without a startup parameter, and a PgBouncer restart.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from notes_app.config import Settings
from notes_app.db import tortoise_config
from notes_app.main import create_app
from tests.conftest import TEST_SECRET_KEY, asyncpg_dsn
from tests.pgbouncer import PgBouncer, pgbouncer_binary
from tests.support import run_python
from tests.test_outage import RECOVERY_WITHOUT_A_HANG, Server, log_in, start_server

PGBOUNCER_ENV = {"DB_PGBOUNCER": "true"}


@pytest.fixture
async def migrated_url(settings: Settings, new_database: Callable[[], Any]) -> str:
    if settings.dialect != "postgres":
        pytest.skip("PgBouncer fronts PostgreSQL: run with TEST_DATABASE_URL")
    if pgbouncer_binary() is None:
        pytest.skip("the pgbouncer binary is not installed and this machine could not install it (.ci/run does)")
    url: str = await new_database()
    run_python("-m", "notes_app.migrate", database_url=url)
    return url


@pytest.fixture
def bouncer(migrated_url: str) -> Any:
    running = PgBouncer(migrated_url)
    running.start()
    yield running
    running.close()


@pytest.fixture
async def server(bouncer: PgBouncer, migrated_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    running = await start_server(bouncer.url(migrated_url), tmp_path / "uvicorn.log", extra_env=PGBOUNCER_ENV)
    yield running
    await running.stop()


def test_pgbouncer_mode_sends_no_startup_setting_and_caches_no_statement() -> None:
    url = "postgres://notes@127.0.0.1:6432/notes"
    direct = tortoise_config(Settings(database_url=url))["connections"]["default"]["credentials"]
    bounced = tortoise_config(Settings(database_url=url, db_pgbouncer=True))["connections"]["default"]["credentials"]

    assert direct["server_settings"] == {"plan_cache_mode": "force_custom_plan"}
    assert "statement_cache_size" not in direct  # asyncpg's cache stays on where it can
    assert bounced["server_settings"] == {}
    assert bounced["statement_cache_size"] == 0


def test_pgbouncer_mode_without_a_direct_listen_url_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    url = "postgres://notes@127.0.0.1:6432/notes"
    secret = SecretStr(TEST_SECRET_KEY)
    with caplog.at_level(logging.WARNING, logger="notes_app.main"):
        create_app(Settings(database_url=url, db_pgbouncer=True, secret_key=secret))
        warned = [record.getMessage() for record in caplog.records]
        caplog.clear()
        create_app(
            Settings(
                database_url=url,
                db_pgbouncer=True,
                database_listen_url="postgres://notes@127.0.0.1:5432/notes",
                secret_key=secret,
            )
        )
        create_app(Settings(database_url=url, secret_key=secret))

    assert len(warned) == 1
    assert "DATABASE_LISTEN_URL" in warned[0]
    assert caplog.records == []


async def test_sessions_through_pgbouncer_plan_for_each_value_without_a_startup_parameter(
    bouncer: PgBouncer, migrated_url: str
) -> None:
    # PgBouncer refuses the startup parameter the app sends when connecting directly...
    with pytest.raises(asyncpg.ProtocolViolationError, match="unsupported startup parameter"):
        await asyncpg.connect(
            asyncpg_dsn(bouncer.url(migrated_url)), server_settings={"plan_cache_mode": "force_custom_plan"}
        )
    # ...so the migration made the setting the database's default, and sessions through PgBouncer have it.
    connection = await asyncpg.connect(asyncpg_dsn(bouncer.url(migrated_url)), statement_cache_size=0)
    try:
        assert await connection.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
    finally:
        await connection.close()


async def test_notes_and_accounts_work_through_pgbouncer(server: Server, bouncer: PgBouncer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        await log_in(client, "bounced")
        # More rounds than PostgreSQL's five custom plans and than the pool's connections, so any
        # statement prepared on one server connection and looked for on another would fail.
        ids = []
        for round_ in range(8):
            created = await client.post("/notes", json={"title": f"bounced {round_}", "tags": ["pgb"]})
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
            fetched = await client.get(f"/notes/{ids[-1]}")
            assert fetched.status_code == 200, fetched.text
            patched = await client.patch(f"/notes/{ids[-1]}", json={"body": "patched"})
            assert patched.status_code == 200, patched.text
            listed = await client.get("/notes", params={"tag": "pgb", "q": "bounced", "limit": 3})
            assert listed.status_code == 200, listed.text
        bulk = await client.post("/notes/bulk", json={"notes": [{"title": "one"}, {"title": "two"}]})
        deleted = await client.delete(f"/notes/{ids[0]}")
        everything = await client.get("/notes", params={"limit": 100})
        ready = await client.get("/health/ready")
        wrong_password = await client.post("/auth/token", data={"username": "bounced", "password": "nope"})

    assert bulk.status_code == 201, bulk.text
    assert deleted.status_code == 204
    assert len(everything.json()["items"]) == 7 + 2
    assert ready.status_code == 200
    assert wrong_password.status_code == 401
    await server.stop()
    assert "Traceback" not in server.output, server.output
    # The requests really went through PgBouncer.
    assert "login attempt" in bouncer.read_log()


async def test_a_pgbouncer_restart_gives_503_with_retry_after_then_recovers_by_itself(
    server: Server, bouncer: PgBouncer
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        await log_in(client, "restart")
        note = (await client.post("/notes", json={"title": "before the restart"})).json()
        # Fill the pool with connections to PgBouncer, which the restart then cuts.
        before = await asyncio.gather(*(client.get(f"/notes/{note['id']}") for _ in range(5)))
        bouncer.stop()
        caught = [await client.get(f"/notes/{note['id']}") for _ in range(3)]
        bouncer.start()
        # No bound in the contract, so only a wide one against a hang.
        deadline = time.monotonic() + RECOVERY_WITHOUT_A_HANG
        while (after := await client.get(f"/notes/{note['id']}")).status_code != 200:
            assert after.status_code == 503, after.text
            assert time.monotonic() < deadline, "the service did not recover after PgBouncer came back"
            await asyncio.sleep(0.1)
        written = await client.post("/notes", json={"title": "after the restart"})

    assert {response.status_code for response in before} == {200}
    assert [response.status_code for response in caught] == [503, 503, 503]
    assert all(response.headers["content-type"] == "application/problem+json" for response in caught)
    assert all(int(response.headers["retry-after"]) >= 1 for response in caught)
    assert written.status_code == 201
