"""`python -m notes_app.migrate`: `aerich upgrade` with the migration set of DATABASE_URL's dialect.

Aerich writes dialect-specific SQL, so PostgreSQL and SQLite each keep their own migrations
(`migrations/postgres`, `migrations/sqlite`) and Aerich config (pyproject.toml, aerich-sqlite.toml).
This picks the pair that matches the database, so `make run` and deployments cannot apply the wrong one.
"""

import asyncio
import tomllib
from pathlib import Path
from typing import Any

from aerich import Command
from tortoise import Tortoise

from notes_app.config import Dialect, get_settings
from notes_app.db import tortoise_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AERICH_CONFIG_FILES: dict[Dialect, str] = {"postgres": "pyproject.toml", "sqlite": "aerich-sqlite.toml"}


def migration_location(dialect: Dialect) -> Path:
    """The `location` of the dialect's Aerich config, resolved against the project root."""
    with (PROJECT_ROOT / AERICH_CONFIG_FILES[dialect]).open("rb") as config_file:
        location: str = tomllib.load(config_file)["tool"]["aerich"]["location"]
    return PROJECT_ROOT / location


async def upgrade(config: dict[str, Any], dialect: Dialect) -> list[str]:
    """Apply every pending migration. Tortoise is left initialised on `config`: closing it is the
    caller's, which lets the tests keep an in-memory SQLite database they have just migrated."""
    command = Command(tortoise_config=config, app="models", location=str(migration_location(dialect)))
    await command.init()
    applied: list[str] = await command.upgrade(run_in_transaction=True)
    return applied


async def _upgrade_and_close() -> list[str]:
    settings = get_settings()
    try:
        return await upgrade(tortoise_config(settings), settings.dialect)
    finally:
        await Tortoise.close_connections()


def main() -> None:
    applied = asyncio.run(_upgrade_and_close())
    print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {name}" for name in applied))


if __name__ == "__main__":
    main()
