"""TORTOISE_ORM, the one Tortoise configuration that the app, the tests and `aerich` use.

Aerich reads `TORTOISE_ORM_POSTGRES` (pyproject.toml) or `TORTOISE_ORM_SQLITE` (aerich-sqlite.toml).
Each names the dialect its migration folder was written for, and refuses a DATABASE_URL of the other
dialect: PostgreSQL migrations applied to SQLite (or the reverse) leave a broken schema.
"""

from typing import Any

from notes_app.config import get_settings
from notes_app.db import tortoise_config

TORTOISE_ORM = tortoise_config(get_settings())

_DIALECT_CONFIGS = {"TORTOISE_ORM_POSTGRES": "postgres", "TORTOISE_ORM_SQLITE": "sqlite"}


def __getattr__(name: str) -> Any:
    try:
        wanted = _DIALECT_CONFIGS[name]
    except KeyError:
        raise AttributeError(name) from None
    settings = get_settings()
    if settings.dialect != wanted:
        raise RuntimeError(
            f"{name} is for {wanted} migrations, but DATABASE_URL is a {settings.dialect} URL: "
            "use `python -m notes_app.migrate`, which picks the matching Aerich config"
        )
    return TORTOISE_ORM
