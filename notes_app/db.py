"""The Tortoise configuration and the one place the ORM is tied to the app's lifespan."""

from typing import Any

from fastapi import FastAPI
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.contrib.fastapi import register_tortoise

from notes_app.config import Settings

MODEL_MODULES = ["notes_app.users.models", "notes_app.notes.models"]


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """TORTOISE_ORM for the app, the tests and Aerich alike (Aerich's own table included)."""
    connection = expand_db_url(settings.database_url)
    if settings.dialect == "postgres":
        connection["engine"] = "notes_app.postgres_client"
        connection["credentials"].update(
            minsize=settings.db_pool_min,
            maxsize=settings.db_pool_max,
            acquire_timeout=settings.db_acquire_timeout,
            # asyncpg's connect timeout: opening a connection is part of waiting for one.
            timeout=settings.db_acquire_timeout,
            # asyncpg prepares every statement, and after five runs PostgreSQL may keep one generic
            # plan for all values. Notes per owner are skewed (one account can hold a fifth of all
            # notes): for such an owner's tag filter the plan made for an average owner read 13,800
            # pages in 50 ms, the plan made for that owner 930 pages in 1 ms (bench/LISTING.md).
            # Planning every run costs a fraction of a millisecond; the statement cache still saves
            # the parse round trip.
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": [*MODEL_MODULES, "aerich.models"],
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def register_database(app: FastAPI, settings: Settings) -> None:
    # The schema belongs to Aerich (`python -m notes_app.migrate`), never to generate_schemas.
    register_tortoise(app, config=tortoise_config(settings), generate_schemas=False)
