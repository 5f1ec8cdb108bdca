"""notes_app: an async notes service on FastAPI, Tortoise ORM and PostgreSQL or SQLite."""
