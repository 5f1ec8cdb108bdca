"""The bench's two databases on the local PostgreSQL: one for notes_app (its schema comes from its own
migrations) and one for the baseline apps (their own, simpler `note` table), so the schemas never meet.
"""

import os
import re
import subprocess
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

HOST_DSN = "postgresql://postgres@127.0.0.1:5432"
# BENCH_DB_PREFIX gives a run databases of its own, so that two runs on one PostgreSQL server (several
# worktrees on one machine) do not drop each other's databases half-way.
_PREFIX = os.environ.get("BENCH_DB_PREFIX", "notes_bench")
NOTES_DB = _PREFIX
BASELINE_DB = f"{_PREFIX}_baseline"


def dsn(database: str) -> str:
    return f"{HOST_DSN}/{database}"


def tortoise_url(database: str) -> str:
    """The same database in Tortoise's URL form, for notes_app's DATABASE_URL."""
    return f"postgres://postgres@127.0.0.1:5432/{database}"


def recreate_database(name: str) -> None:
    """Drop (disconnecting whoever is still connected) and create: each bench run starts from scratch."""
    with psycopg.connect(dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate_notes(python: str, *, env: dict[str, str], cwd: str) -> str:
    """notes_app's schema in NOTES_DB from its own migrations (`python -m notes_app.migrate`, DATABASE_URL
    in `env`); returns what the migration printed."""
    migrated = subprocess.run(
        [python, "-m", "notes_app.migrate"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if migrated.returncode != 0:
        raise RuntimeError(f"python -m notes_app.migrate failed:\n{migrated.stdout}\n{migrated.stderr}")
    return " ".join(migrated.stdout.split())


def server_info() -> str:
    with psycopg.connect(dsn("postgres")) as conn:
        settings = [
            str(conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0])  # type: ignore[index]
            for name in ("server_version", "synchronous_commit", "shared_buffers")
        ]
    return f"PostgreSQL {settings[0]} (synchronous_commit={settings[1]}, shared_buffers={settings[2]})"


def postmaster_pid() -> int:
    """PID of the postmaster serving 127.0.0.1:5432 (so another cluster on the machine is not counted)."""
    with psycopg.connect(dsn("postgres")) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        # Read while connected: the backend exits with the connection.
        with open(f"/proc/{row[0]}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])


def _settle(conn: psycopg.Connection, *tables: str) -> None:
    """Fresh statistics and no dead tuples, and the seed's writes flushed, so that neither autovacuum
    nor a checkpoint lands in the middle of a measured run."""
    for table in tables:
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    conn.execute("CHECKPOINT")


# ---------------------------------------------------------------- the baselines' table
# As in shared/bench/run.py, so the baselines' figures stay comparable with the shared ones.
BASELINE_SCHEMA = """
DROP TABLE IF EXISTS note;
CREATE TABLE note (
    id         serial PRIMARY KEY,
    title      varchar(200) NOT NULL,
    body       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""
BASELINE_SEED = """
INSERT INTO note (title, body, created_at, updated_at)
SELECT 'note ' || g,
       repeat(md5(g::text), 8),                       -- 256-char body
       now() - make_interval(secs => %(n)s - g),
       now() - make_interval(secs => %(n)s - g)
FROM generate_series(1, %(n)s) AS g;
"""


def seed_baseline(rows: int) -> float:
    """Recreate and fill the baselines' `note` with ids 1..rows. Returns the seconds it took."""
    start = time.perf_counter()
    with psycopg.connect(dsn(BASELINE_DB), autocommit=True) as conn:
        conn.execute(BASELINE_SCHEMA)
        conn.execute(BASELINE_SEED, {"n": rows})
        _settle(conn, "note")
    return time.perf_counter() - start


# ---------------------------------------------------------------- notes_app's table
# Words put in every seeded title, and the queries of the search workload: each matches 1/16 of rows.
SEARCH_WORDS = (
    "apple", "budget", "garden", "invoice", "kitchen", "meeting", "office", "paint",
    "recipe", "school", "ticket", "travel", "violin", "weekend", "winter", "yoga",
)  # fmt: skip

# What the seed writes into each column of notes_app's `note`, as SQL over the series number `g`.
# Bodies are 256 characters like the baselines'. Timestamps are fixed (not now()), one second apart,
# so every row has its own place in the (updated_at, id) order. Any NOT NULL column without a default
# that is missing here stops the seed with a message, rather than being guessed.
NOTE_SEED_VALUES = {
    "title": "'note ' || g || ' ' || (%(words)s::text[])[1 + mod(g, 16)]",
    "body": "repeat(md5(g::text), 8)",
    "tags": "jsonb_build_array('bench', 'tag-' || mod(g, 10))",
    "pinned": "mod(g, 50) = 0",
    "archived": "false",
    "version": "1",
    "created_at": "timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => g)",
    "updated_at": "timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => g)",
    "owner_id": "%(owner_id)s",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool  # NOT NULL, no default, not generated: the seed must give it a value


def note_columns() -> list[Column]:
    """notes_app's `note` as its migrations left it (what `\\d note` shows)."""
    with psycopg.connect(dsn(NOTES_DB)) as conn:
        rows = conn.execute(
            "SELECT column_name, data_type, is_generated = 'ALWAYS',"
            " is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'"
            " FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'note'"
            " ORDER BY ordinal_position"
        ).fetchall()
    if not rows:
        raise RuntimeError(f"{NOTES_DB} has no table note: did `python -m notes_app.migrate` run?")
    # A generated column (search_vector) is computed by PostgreSQL: never written, never required.
    return [
        Column(name, f"{type_} (generated)" if generated else type_, required and not generated)
        for name, type_, generated, required in rows
    ]


def owner_table() -> str | None:
    """The table note.owner_id references (accounts' users), or None while notes have no owner."""
    with psycopg.connect(dsn(NOTES_DB)) as conn:
        row = conn.execute(
            "SELECT c.confrelid::regclass::text FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
            "WHERE c.conrelid = 'note'::regclass AND c.contype = 'f' AND a.attname = 'owner_id'"
        ).fetchone()
    return None if row is None else str(row[0])


def user_id(table: str, username: str) -> int:
    # `table` comes from the catalog (regclass text, already quoted where needed, e.g. "user").
    if not re.fullmatch(r'"?[a-z_][a-z0-9_]*"?', table):
        raise RuntimeError(f"unexpected owner table name {table!r}")
    with psycopg.connect(dsn(NOTES_DB)) as conn:
        row = conn.execute(
            sql.SQL("SELECT id FROM {} WHERE username = %s").format(sql.SQL(table)), (username,)
        ).fetchone()
    if row is None:
        raise RuntimeError(f"no row for {username!r} in {table}")
    return int(row[0])


@dataclass(frozen=True)
class NoteSeed:
    seconds: float
    first_id: int
    last_id: int


def seed_notes(rows: int, *, owner_id: int | None) -> NoteSeed:
    """Empty notes_app's `note` and fill it with `rows` notes (of `owner_id` when notes have owners),
    in one INSERT ... SELECT over generate_series: far faster than the API."""
    columns = note_columns()
    names = {column.name for column in columns}
    unknown = [c.name for c in columns if c.required and c.name not in NOTE_SEED_VALUES and c.name != "id"]
    if unknown:
        raise RuntimeError(
            f"note has required columns the bench cannot fill: {unknown}; add them to NOTE_SEED_VALUES "
            "in bench/harness/db.py"
        )
    if ("owner_id" in names) != (owner_id is not None):
        has = "has" if "owner_id" in names else "has no"
        raise RuntimeError(f"note {has} owner_id but the bench user's id is {owner_id}: half-migrated?")
    seeded = [name for name in NOTE_SEED_VALUES if name in names]
    insert = sql.SQL("INSERT INTO note ({}) SELECT {} FROM generate_series(1, %(n)s) AS g").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in seeded),
        sql.SQL(", ").join(sql.SQL(NOTE_SEED_VALUES[name]) for name in seeded),
    )
    start = time.perf_counter()
    with psycopg.connect(dsn(NOTES_DB), autocommit=True) as conn:
        # CASCADE: tables that reference notes (none yet) are emptied too; users are kept.
        conn.execute("TRUNCATE note RESTART IDENTITY CASCADE")
        conn.execute(insert, {"n": rows, "words": list(SEARCH_WORDS), "owner_id": owner_id})
        _settle(conn, "note")
        first, last = conn.execute("SELECT min(id), max(id) FROM note").fetchone()  # type: ignore[misc]
    return NoteSeed(time.perf_counter() - start, first, last)
