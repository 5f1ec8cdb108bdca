"""Aerich owns the schema: upgrading an empty database gives exactly what the models describe."""

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

import tortoise_config
from notes_app.config import get_settings
from notes_app.migrate import AERICH_CONFIG_FILES, migration_location
from tests.conftest import asyncpg_dsn
from tests.support import aerich, run_python

GENERATE_SCHEMAS = """
import asyncio
from tortoise import Tortoise
from notes_app.config import get_settings
from notes_app.db import tortoise_config

async def main():
    await Tortoise.init(config=tortoise_config(get_settings()))
    await Tortoise.generate_schemas()
    await Tortoise.close_connections()

asyncio.run(main())
"""

# A PostgreSQL URL for offline Aerich commands: nothing listens on port 1, and nothing connects.
OFFLINE_URLS = {"postgres": "postgres://nobody@127.0.0.1:1/none", "sqlite": "sqlite://:memory:"}


async def describe_schema(url: str) -> set[tuple[Any, ...]]:
    """Tables, columns (type, nullability, default), indexes and triggers, as the database reports them.
    Every fact is (kind, table, name, details...)."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            facts: set[tuple[Any, ...]] = {
                ("trigger", table, name, sql)
                for name, table, sql in db.execute(
                    "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
                )
            }
            tables = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
            for table, sql in tables:
                if table.startswith("sqlite_"):
                    continue
                facts.add(("table", table, table, "AUTOINCREMENT" in sql.upper()))
                facts.update(("column", table, *row[1:]) for row in db.execute(f'PRAGMA table_info("{table}")'))
                for _, index, unique, *_ in db.execute(f'PRAGMA index_list("{table}")'):
                    columns = tuple(row[2] for row in db.execute(f'PRAGMA index_info("{index}")'))
                    facts.add(("index", table, index, unique, columns))
            return facts
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length, column_default"
            " FROM information_schema.columns WHERE table_schema = 'public'"
        )
        indexes = await connection.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        )
    finally:
        await connection.close()
    return {("column", *row.values()) for row in columns} | {("index", *row.values()) for row in indexes}


# What the hand-written migrations add beyond the models, by (kind, table, name): the search and tag
# indexes that Tortoise cannot describe (migrations/*/models/*_search.py). These, and only these, may
# differ from generate_schemas, and each must be there after upgrading.
DIALECT_ONLY = {
    "postgres": {
        ("column", "note", "search_vector"),
        ("index", "note", "note_owner_filters_gin"),
        ("index", "note", "note_trash_expiry"),  # partial: only trashed notes
        # The listing indexes, made partial (live notes only) by the trash migration: their names and
        # columns are the models', their condition is not (the SQLite check cannot see conditions).
        ("index", "note", "idx_note_owner_i_d835cd"),
        ("index", "note", "idx_note_owner_i_b30da3"),
    },
    "sqlite": {
        ("table", "note_fts", "note_fts"),
        # FTS5's own shadow tables, created with the virtual table (external content: no _content).
        *(
            ("table", shadow, shadow)
            for shadow in ("note_fts_data", "note_fts_idx", "note_fts_docsize", "note_fts_config")
        ),
        ("trigger", "note", "note_fts_insert"),
        ("trigger", "note", "note_fts_delete"),
        ("trigger", "note", "note_fts_update"),
        ("index", "note", "note_trash_expiry"),
    },
}


def dialect_only(facts: set[tuple[Any, ...]], dialect: str) -> set[tuple[Any, ...]]:
    """The facts about an object of DIALECT_ONLY: the object itself, its columns, its indexes."""
    tables = {name for kind, _, name in DIALECT_ONLY[dialect] if kind == "table"}
    return {fact for fact in facts if fact[:3] in DIALECT_ONLY[dialect] or fact[1] in tables}


async def test_upgrade_from_empty_gives_exactly_the_schema_of_the_models(
    new_database: Callable[[], Any], dialect: str
) -> None:
    migrated, generated = await new_database(), await new_database()
    assert migrated != generated

    output = run_python("-m", "notes_app.migrate", database_url=migrated).stdout
    run_python("-c", GENERATE_SCHEMAS, database_url=generated)

    assert "applied" in output
    migrated_schema = await describe_schema(migrated)
    assert any(fact[:3] == ("column", "note", "tags") for fact in migrated_schema)
    extra = dialect_only(migrated_schema, dialect)
    assert {fact[:3] for fact in extra} >= DIALECT_ONLY[dialect]
    generated_schema = await describe_schema(generated)
    assert migrated_schema - extra == generated_schema - dialect_only(generated_schema, dialect)


async def test_listing_and_search_indexes_hold_only_live_notes(new_database: Callable[[], Any], dialect: str) -> None:
    url = await new_database()
    run_python("-m", "notes_app.migrate", database_url=url)
    live_only = {"idx_note_owner_i_d835cd", "idx_note_owner_i_b30da3"}
    if dialect == "postgres":
        live_only.add("note_owner_filters_gin")
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            rows = await connection.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'note'")
        finally:
            await connection.close()
        definitions = {row["indexname"]: row["indexdef"] for row in rows}
        live_condition, trash_condition = "WHERE (deleted_at IS NULL)", "WHERE (deleted_at IS NOT NULL)"
    else:
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            definitions = dict(
                db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            )
        live_condition, trash_condition = 'WHERE "deleted_at" IS NULL', 'WHERE "deleted_at" IS NOT NULL'

    for name in live_only:
        assert " ".join(definitions[name].split()).endswith(live_condition), definitions[name]
    assert " ".join(definitions["note_trash_expiry"].split()).endswith(trash_condition)
    # The trash's own index holds every note: it also serves the owner's foreign key.
    assert "WHERE" not in definitions["idx_note_owner_i_d0bea6"]


async def test_upgrade_twice_applies_nothing_the_second_time(new_database: Callable[[], Any]) -> None:
    url = await new_database()
    run_python("-m", "notes_app.migrate", database_url=url)

    assert "applied 0 migration(s)" in run_python("-m", "notes_app.migrate", database_url=url).stdout


@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
def test_the_models_have_no_pending_migration(dialect: str, tmp_path: Path) -> None:
    # Aerich's offline diff of the models against the newest migration's snapshot, run on a copy
    # of the folder: a new migration file there means someone changed a model without a migration.
    location = tmp_path / "migrations"
    shutil.copytree(migration_location(dialect), location)  # type: ignore[arg-type]
    config = tmp_path / "aerich.toml"
    config.write_text(
        f'[tool.aerich]\ntortoise_orm = "tortoise_config.TORTOISE_ORM_{dialect.upper()}"\nlocation = "{location}"\n'
    )
    before = set((location / "models").iterdir())

    aerich("-c", str(config), "migrate", "--offline", "--name", "pending", database_url=OFFLINE_URLS[dialect])

    assert set((location / "models").iterdir()) == before


@pytest.mark.parametrize(
    ("name", "url"), [("TORTOISE_ORM_SQLITE", "postgres://u@h/db"), ("TORTOISE_ORM_POSTGRES", "sqlite://x")]
)
def test_the_aerich_config_of_one_dialect_refuses_a_url_of_the_other(
    monkeypatch: pytest.MonkeyPatch, name: str, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"python -m notes_app\.migrate"):
            getattr(tortoise_config, name)
    finally:
        get_settings.cache_clear()


def test_each_dialect_has_its_own_aerich_config_and_folder() -> None:
    locations = {dialect: migration_location(dialect) for dialect in AERICH_CONFIG_FILES}  # type: ignore[arg-type]

    assert locations["postgres"] != locations["sqlite"]
    for location in locations.values():
        assert list((location / "models").glob("0_*.py"))


async def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Raw SQL, beside the ORM: what is really in the database."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            return db.execute(sql).fetchall()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return [tuple(row.values()) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


def aerich_config_for(dialect: str, location: Path, config: Path) -> str:
    config.write_text(
        f'[tool.aerich]\ntortoise_orm = "tortoise_config.TORTOISE_ORM_{dialect.upper()}"\nlocation = "{location}"\n'
    )
    return str(config)


async def foundation_database(new_database: Callable[[], Any], dialect: str, tmp_path: Path) -> str:
    """A new database at the schema of the first release (migration 0 only)."""
    url: str = await new_database()
    foundation = tmp_path / "foundation"
    (foundation / "models").mkdir(parents=True)
    shutil.copy(min(migration_location(dialect).glob("models/0_*.py")), foundation / "models")  # type: ignore[arg-type]
    aerich("-c", aerich_config_for(dialect, foundation, tmp_path / "a.toml"), "upgrade", database_url=url)
    return url


FOUNDATION_NOTES = """
INSERT INTO note (title, body, tags, pinned, archived, version, created_at, updated_at) VALUES
 ('first', 'body one', '["home"]', {false}, {false}, 1, '2026-01-01 10:00:00.000001+00:00',
  '2026-01-01 10:00:00.000001+00:00'),
 ('second', '', '[]', {true}, {false}, 3, '2026-01-01 11:00:00.000002+00:00', '2026-01-02 09:00:00.000003+00:00'),
 ('deleted', '', '[]', {false}, {false}, 1, '2026-01-01 12:00:00+00:00', '2026-01-01 12:00:00+00:00')
"""
NOTE_COLUMNS = "id, title, body, tags, pinned, archived, version, created_at, updated_at"


async def database_before_newest_migration(new_database: Callable[[], Any], dialect: str, tmp_path: Path) -> str:
    """A new database at the schema of every migration but the newest."""
    url: str = await new_database()
    older = tmp_path / "older"
    (older / "models").mkdir(parents=True)
    migrations = sorted(migration_location(dialect).glob("models/*.py"), key=lambda path: int(path.name.split("_")[0]))
    for migration in migrations[:-1]:
        shutil.copy(migration, older / "models")
    aerich("-c", aerich_config_for(dialect, older, tmp_path / "a.toml"), "upgrade", database_url=url)
    return url


def sql_booleans(dialect: str) -> dict[str, str]:
    """How true and false are written in the dialect's SQL: SQLite stores booleans as integers."""
    return {"true": "true", "false": "false"} if dialect == "postgres" else {"true": "1", "false": "0"}


async def test_upgrading_a_foundation_database_keeps_every_note(
    new_database: Callable[[], Any], dialect: str, tmp_path: Path
) -> None:
    url = await foundation_database(new_database, dialect, tmp_path)
    await query(url, FOUNDATION_NOTES.format(**sql_booleans(dialect)))
    await query(url, "DELETE FROM note WHERE title = 'deleted'")
    before = await query(url, f"SELECT {NOTE_COLUMNS} FROM note ORDER BY id")

    run_python("-m", "notes_app.migrate", database_url=url)

    after = await query(url, f"SELECT {NOTE_COLUMNS}, owner_id FROM note ORDER BY id")
    [(legacy_id, password_hash)] = await query(url, "SELECT id, password_hash FROM \"user\" WHERE username = 'legacy'")
    assert [row[:-1] for row in after] == before
    assert {row[-1] for row in after} == {legacy_id}
    assert password_hash == "!"  # an account nobody can log in to
    # The id counter survived the upgrade: the deleted note's id is not handed out again.
    false = sql_booleans(dialect)["false"]
    await query(
        url,
        f"INSERT INTO note (title, body, tags, pinned, archived, version, created_at, updated_at, owner_id)"
        f" VALUES ('new', '', '[]', {false}, {false}, 1, '2026-02-01 00:00:00+00:00',"
        f" '2026-02-01 00:00:00+00:00', {legacy_id})",
    )
    [(new_id,)] = await query(url, "SELECT id FROM note WHERE title = 'new'")
    assert new_id == 4


async def test_upgrading_an_empty_foundation_database_creates_no_legacy_account(
    new_database: Callable[[], Any], dialect: str, tmp_path: Path
) -> None:
    url = await foundation_database(new_database, dialect, tmp_path)

    run_python("-m", "notes_app.migrate", database_url=url)

    assert await query(url, 'SELECT username FROM "user"') == []


# The titles of the notes whose title or body holds every word, straight from the search index.
SEARCH_SQL = {
    "postgres": "SELECT title FROM note WHERE search_vector @@ plainto_tsquery('english', '{words}')",
    "sqlite": "SELECT title FROM note WHERE id IN (SELECT rowid FROM note_fts WHERE note_fts MATCH '{words}')",
}


async def test_upgrading_makes_the_notes_already_there_searchable(
    new_database: Callable[[], Any], dialect: str, tmp_path: Path
) -> None:
    url = await foundation_database(new_database, dialect, tmp_path)
    await query(url, FOUNDATION_NOTES.format(**sql_booleans(dialect)))

    run_python("-m", "notes_app.migrate", database_url=url)

    assert await query(url, SEARCH_SQL[dialect].format(words="one")) == [("first",)]
    assert await query(url, SEARCH_SQL[dialect].format(words="second")) == [("second",)]
    await query(url, "UPDATE note SET body = 'two' WHERE title = 'first'")
    assert await query(url, SEARCH_SQL[dialect].format(words="one")) == []
    assert await query(url, SEARCH_SQL[dialect].format(words="two")) == [("first",)]


async def test_upgrading_moves_notes_imported_at_the_infinities_to_the_nearest_instants(
    new_database: Callable[[], Any], dialect: str, tmp_path: Path
) -> None:
    if dialect != "postgres":
        pytest.skip("only PostgreSQL has infinite timestamps (SQLite stores text)")
    url = await database_before_newest_migration(new_database, dialect, tmp_path)
    # What an import of 0001-01-01T00:00:00Z / 9999-12-31T23:59:59.999999Z stored before it refused them.
    await query(url, "INSERT INTO \"user\" (username, password_hash, created_at) VALUES ('ann', '!', now())")
    await query(
        url,
        "INSERT INTO note (title, body, tags, pinned, archived, version, created_at, updated_at, owner_id) VALUES"
        " ('low', '', '[]', false, false, 1, '-infinity', '-infinity', (SELECT id FROM \"user\")),"
        " ('high', '', '[]', false, false, 1, '2026-01-01 00:00:00+00', 'infinity', (SELECT id FROM \"user\")),"
        " ('plain', '', '[]', false, false, 1, '2026-01-01 00:00:00+00', '2026-01-02 00:00:00+00',"
        ' (SELECT id FROM "user"))',
    )
    await query(
        url,
        "INSERT INTO note_revision (note_id, version, title, body, tags, pinned, archived, created_at)"
        " SELECT id, version, title, body, tags, pinned, archived, updated_at FROM note",
    )

    run_python("-m", "notes_app.migrate", database_url=url)

    utc = "(({0}) AT TIME ZONE 'UTC')::text"
    notes = f"SELECT title, {utc.format('created_at')}, {utc.format('updated_at')} FROM note ORDER BY id"
    assert await query(url, notes) == [
        ("low", "0001-01-01 00:00:00.000001", "0001-01-01 00:00:00.000001"),
        ("high", "2026-01-01 00:00:00", "9999-12-31 23:59:59.999998"),
        ("plain", "2026-01-01 00:00:00", "2026-01-02 00:00:00"),
    ]
    revisions = f"SELECT {utc.format('created_at')} FROM note_revision ORDER BY note_id"
    assert await query(url, revisions) == [
        ("0001-01-01 00:00:00.000001",),
        ("9999-12-31 23:59:59.999998",),
        ("2026-01-02 00:00:00",),
    ]
