"""notes_app: an async notes service on FastAPI, Tortoise ORM and PostgreSQL or SQLite."""

# Registers the `{name:id}` path convertor before any router is built (Starlette keeps convertors in one
# process-wide table, read when a route is declared).
from notes_app import path_ids as _path_ids  # noqa: F401
