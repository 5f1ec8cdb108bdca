"""The Tortoise configuration and the one place the ORM is tied to the app's lifespan."""

from typing import Any

import asyncpg
from fastapi import FastAPI
from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import get_current_context
from tortoise.contrib.fastapi import register_tortoise
from tortoise.exceptions import DBConnectionError

from notes_app.config import Settings, dialect_of
from notes_app.postgres_client import BoundedAcquireClient
from notes_app.sqlite_client import DatabaseBusy

MODEL_MODULES = [
    "notes_app.users.models",
    "notes_app.notes.models",
    "notes_app.idempotency.models",
    "notes_app.sync.models",
]

# What a database that is down, restarting, overloaded or unreachable raises. Tortoise passes these
# through from the driver untranslated. Each means "try again shortly" (503), not a bug (500).
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08: the connection failed or was lost
    asyncpg.InterfaceError,  # the connection was closed in the middle of an operation
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,  # terminated by an administrator or a restart
    asyncpg.TooManyConnectionsError,
    DBConnectionError,
    ConnectionError,  # refused, reset or aborted sockets
    TimeoutError,  # the pool acquire, or the connect, ran past DB_ACQUIRE_TIMEOUT
    DatabaseBusy,  # SQLite: another process held the write lock past DB_ACQUIRE_TIMEOUT
)


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """TORTOISE_ORM for the app, the tests and Aerich alike (Aerich's own table included)."""
    connections = {"default": connection_config(settings.database_url, settings, engine="notes_app.postgres_client")}
    return {
        "connections": connections,
        "apps": {
            "models": {
                "models": [*MODEL_MODULES, "aerich.models"],
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def connection_config(url: str, settings: Settings, *, engine: str) -> dict[str, Any]:
    """One connection's Tortoise config: engine, credentials and the pool's settings."""
    connection = expand_db_url(url)
    if dialect_of(url) == "sqlite":
        # Transactions begin with BEGIN IMMEDIATE, so a write waits for another process's write
        # instead of failing with "database is locked" (notes_app/sqlite_client.py).
        connection["engine"] = "notes_app.sqlite_client"
        # Extra credentials become PRAGMAs: how long that wait may last, like a PostgreSQL pool acquire.
        connection["credentials"]["busy_timeout"] = round(settings.db_acquire_timeout * 1000)
    elif dialect_of(url) == "postgres":
        connection["engine"] = engine
        connection["credentials"].update(
            minsize=settings.db_pool_min,
            maxsize=settings.db_pool_max,
            acquire_timeout=settings.db_acquire_timeout,
            # asyncpg's connect timeout: opening a connection is part of waiting for one.
            timeout=settings.db_acquire_timeout,
            # A server that stops answering mid-query fails the query instead of hanging the request.
            command_timeout=settings.db_command_timeout,
            # Names our sessions in pg_stat_activity.
            application_name="notes_app",
            # asyncpg prepares every statement, and after five runs PostgreSQL may keep one generic
            # plan for all values. Notes per owner are skewed (one account can hold a fifth of all
            # notes): for such an owner's tag filter the plan made for an average owner read 13,800
            # pages in 50 ms, the plan made for that owner 930 pages in 1 ms (bench/LISTING.md).
            # Planning every run costs a fraction of a millisecond; the statement cache still saves
            # the parse round trip. The same setting is also the database's own default (the
            # plan_cache_mode migration), for connections that cannot send it at startup.
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )
        if settings.db_pgbouncer:
            connection["credentials"].update(
                # In transaction mode consecutive transactions may run on different server connections,
                # so a named statement prepared on one is missing (or another client's) on the next.
                # Without the cache asyncpg sends each statement unnamed, parsed and planned with its
                # own values every time: a custom plan, what plan_cache_mode=force_custom_plan asks for
                # (PostgreSQL considers a generic plan only after five runs of one prepared statement).
                # Measured: PostgreSQL CPU per GET 0.23 -> 0.42 ms (docs/scaling.md).
                statement_cache_size=0,
                # PgBouncer 1.18 refuses startup parameters it does not track ("unsupported startup
                # parameter"); plan_cache_mode comes from the database's own default instead
                # (`ALTER DATABASE ... SET`, the plan_cache_mode migration).
                server_settings={},
            )
    return connection


def database_pool_stats() -> tuple[int, int] | None:
    """The PostgreSQL pool's (open, idle) connections; None for SQLite or before the ORM is up."""
    if get_current_context() is None:
        return None
    client = connections.get("default")
    return client.pool_stats() if isinstance(client, BoundedAcquireClient) else None


async def ping_database() -> None:
    """One round trip to the database."""
    await connections.get("default").execute_query("SELECT 1")


def register_database(app: FastAPI, settings: Settings) -> None:
    # The schema belongs to Aerich (`python -m notes_app.migrate`), never to generate_schemas.
    register_tortoise(app, config=tortoise_config(settings), generate_schemas=False)
