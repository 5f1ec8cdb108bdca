"""GET /notes at a million notes: seed PostgreSQL, serve the real app on loopback, time it over HTTP.

    make bench-listing                       # or: .venv/bin/python bench/listing.py [--keep | --reuse]

1. Creates the database notes_listing_bench (`BENCH_DB_PREFIX=name`: name_listing_bench, so that two
   benchmarks on one shared machine never drop each other's database), dropping an old one, and migrates it with
   `python -m notes_app.migrate`, so it has exactly the indexes a deployment has.
2. Starts uvicorn on 127.0.0.1, signs the heavy user up and logs in through the API.
3. Seeds 1,000,000 notes by COPY: 200,000 for the heavy user, the rest over 1,000 other users (made by
   SQL). Titles and bodies are words drawn from a fixed vocabulary with a Zipf distribution (seeded,
   so every run writes the same notes), 0 to 5 tags from 200, also Zipf. The heavy user's newest
   30,000 notes (`FRESH`) hold no form of one word that is in about 1/16 of the older ones (the
   "absent word": what a burst of new notes does to a search for an older topic). The secondary
   indexes are dropped for the load and rebuilt from their own definitions, then VACUUM ANALYZE.
4. Times sequential requests of each kind, interleaved so that a noisy neighbour disturbs all alike,
   and writes p50/p99 with EXPLAIN (ANALYZE, BUFFERS) of each query's SQL to bench/LISTING.md, keeping
   the hand-written sections of the last report (those between the table and the plans).

Loopback only, bounded in requests and time. The server runs with the configuration of a deployment
(default pool, SECRET_KEY set); the PostgreSQL server's settings are left as they are.
"""

import argparse
import asyncio
import bisect
import itertools
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
from tortoise import Tortoise

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from notes_app.config import Settings  # noqa: E402
from notes_app.db import tortoise_config  # noqa: E402
from notes_app.notes.listing import NoteFilters, cursor_signer, page_query  # noqa: E402
from notes_app.notes.pagination import SORTS, Cursor  # noqa: E402
from notes_app.users.credentials import Caller  # noqa: E402

SERVER_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = f"{os.environ.get('BENCH_DB_PREFIX', 'notes')}_listing_bench"
REPORT = PROJECT_ROOT / "bench" / "LISTING.md"

SEED = 20261126
NOTES = 1_000_000  # --notes changes it, for a quick trial of the script itself
HEAVY_SHARE = 0.2  # of the notes, the heavy user's
TRASHED_SHARE = 0.02  # of the notes, in the trash (drawn from their own generator: the rest is as before)
OTHER_USERS = 1_000
VOCABULARY = 5_000
TAGS = 200
CHUNK = 25_000
FRESH = 30_000  # the heavy user's newest notes, none holding the absent word
# The absent word: the first word of at least 4 letters from this Zipf rank on; about 1/16 of the notes
# (of ~60 words each) hold a word of this rank.
ABSENT_RANK = 100
PAGE = 50
DEEP_PAGES = 2_000  # the deep page starts after DEEP_PAGES * PAGE of the heavy user's notes
REQUESTS = 300  # timed requests of each kind
WARM_UP = 30
# Targets from the issues: the deep page no slower than the first (p99 within 20%), every query's p50,
# and the absent word's p99 (issue 16).
DEEP_P99_RATIO = 1.2
P50_MS = 20.0
ABSENT_P99_MS = 20.0


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(SERVER_URL)._replace(path=f"/{name}"))


def dsn(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql"))


# Seed data


def make_vocabulary(rng: random.Random) -> list[str]:
    """Pronounceable made-up words, shortest first: the shortest are the most frequent, as in prose."""
    onsets = [*"bcdfghjklmnprstvwz", "br", "ch", "cl", "dr", "fl", "gr", "pl", "sh", "st", "th", "tr"]
    vowels = [*"aeiou", "ai", "ea", "ou"]
    codas = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st"]
    words: set[str] = set()
    while len(words) < VOCABULARY:
        syllables = rng.choice((1, 2, 2, 2, 3, 3))
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables)) + rng.choice(codas))
    return sorted(words, key=lambda word: (len(word), word))


def zipf_weights(count: int) -> list[float]:
    """Cumulative weights of ranks 1..count with P(rank) proportional to 1/rank."""
    return list(itertools.accumulate(1 / rank for rank in range(1, count + 1)))


@dataclass
class Corpus:
    rng: random.Random
    words: list[str]
    tags: list[str]
    heavy_id: int
    other_ids: list[int]
    trash_rng: random.Random = field(default_factory=lambda: random.Random(SEED + 1))
    word_weights: list[float] = field(init=False)
    tag_weights: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.word_weights = zipf_weights(len(self.words))
        self.tag_weights = zipf_weights(len(self.tags))

    def text(self, count: int, excluded: frozenset[str] = frozenset()) -> str:
        if not excluded:
            return " ".join(self.rng.choices(self.words, cum_weights=self.word_weights, k=count))
        # Drawn as from the whole vocabulary, with an excluded word's draws drawn again.
        words: list[str] = []
        while len(words) < count:
            words += (word for word in self.text(count - len(words)).split() if word not in excluded)
        return " ".join(words)

    def note_tags(self) -> str:
        wanted = self.rng.randint(0, 5)
        chosen: set[str] = set()
        while len(chosen) < wanted:
            chosen.add(self.tags[bisect.bisect(self.tag_weights, self.rng.random() * self.tag_weights[-1])])
        return orjson.dumps(sorted(chosen)).decode()

    def chunk(self, first: int, count: int, total: int) -> list[tuple[Any, ...]]:
        """Notes first..first+count-1 of `total`, created in that order over two years."""
        start, span = datetime(2024, 11, 26, tzinfo=UTC), timedelta(days=730)
        rows = []
        for number in range(first, first + count):
            owner = self.heavy_id if self.rng.random() < HEAVY_SHARE else self.rng.choice(self.other_ids)
            created = start + span * (number / total) + timedelta(seconds=self.rng.random() * 60)
            changed = self.rng.random() < 0.4
            updated = created + (start + span - created) * self.rng.random() if changed else created
            trashed = self.trash_rng.random() < TRASHED_SHARE
            deleted = updated + (start + span - updated) * self.trash_rng.random() if trashed else None
            rows.append(
                (
                    owner,
                    self.text(self.rng.randint(2, 6)).capitalize(),
                    self.text(self.rng.randint(40, 70)),
                    self.note_tags(),
                    self.rng.random() < 0.03,  # pinned
                    self.rng.random() < 0.10,  # archived
                    self.rng.randint(2, 6) if changed else 1,
                    created,
                    updated,
                    deleted,
                )
            )
        return rows

    def fresh(self, count: int, excluded: frozenset[str]) -> list[tuple[Any, ...]]:
        """The heavy user's `count` newest notes, written after every other note, holding none of `excluded`."""
        after = datetime(2024, 11, 26, tzinfo=UTC) + timedelta(days=730, minutes=2)
        rows = []
        for number in range(count):
            written = after + timedelta(seconds=number)
            title = self.text(self.rng.randint(2, 6), excluded).capitalize()
            body = self.text(self.rng.randint(40, 70), excluded)
            rows.append((self.heavy_id, title, body, self.note_tags(), False, False, 1, written, written, None))
        return rows


NOTE_COLUMNS = (
    "owner_id",
    "title",
    "body",
    "tags",
    "pinned",
    "archived",
    "version",
    "created_at",
    "updated_at",
    "deleted_at",
)


async def seed(connection: asyncpg.Connection, corpus: Corpus, total: int, absent: frozenset[str]) -> None:
    indexes = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'note' AND indexname <> 'note_pkey'"
    )
    for index in indexes:
        await connection.execute(f'DROP INDEX "{index["indexname"]}"')
    # Generating a chunk (Python) overlaps with copying the previous one (PostgreSQL computes each
    # note's tsvector on the way in): one core each.
    older = total - FRESH
    pending = asyncio.create_task(asyncio.to_thread(corpus.chunk, 0, CHUNK, older))
    for first in range(0, older, CHUNK):
        rows = await pending
        if first + CHUNK < older:
            pending = asyncio.create_task(
                asyncio.to_thread(corpus.chunk, first + CHUNK, min(CHUNK, older - first - CHUNK), older)
            )
        else:
            pending = asyncio.create_task(asyncio.to_thread(corpus.fresh, FRESH, absent))
        await connection.copy_records_to_table("note", records=rows, columns=NOTE_COLUMNS)
        print(f"  {first + len(rows):>9,} notes", end="\r", flush=True)
    await connection.copy_records_to_table("note", records=await pending, columns=NOTE_COLUMNS)
    print(f"  {total:>9,} notes")
    await connection.execute("SET maintenance_work_mem = '1GB'")
    for index in indexes:
        began = time.perf_counter()
        await connection.execute(index["indexdef"])
        print(f"  index {index['indexname']}: {time.perf_counter() - began:.0f} s")
    await connection.execute("VACUUM ANALYZE")


# The server


def free_port() -> int:
    # Other benchmarks may run on this machine at the same time: take a port nobody listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(url: str, secret_key: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secret_key}
    command = [sys.executable, "-m", "uvicorn", "notes_app.main:app", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen([*command, "--no-access-log", "--log-level", "warning"], cwd=PROJECT_ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            if server.poll() is not None:
                raise RuntimeError("the server did not start")
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass(frozen=True)
class Account:
    id: int
    session_id: int
    headers: dict[str, str]


async def log_in(client: httpx.AsyncClient, username: str, *, sign_up: bool) -> Account:
    """Signs the user up through the API (unless the database is reused), and in."""
    credentials = {"username": username, "password": "correct horse battery"}
    if sign_up:
        (await client.post("/users", json=credentials)).raise_for_status()
    grant = (await client.post("/auth/token", data=credentials)).raise_for_status().json()
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    user_id: int = (await client.get("/users/me", headers=headers)).raise_for_status().json()["id"]
    return Account(user_id, grant["session_id"], headers)


# Measurement


@dataclass(frozen=True)
class Case:
    name: str
    account: Account
    params: dict[str, Any]
    filters: NoteFilters = field(default_factory=NoteFilters)
    after: Cursor | None = None
    p99_ms: float | None = None  # a p99 target of its own


@dataclass
class Result:
    case: Case
    timings_ms: list[float]
    items: int
    plan: str = ""
    generic_plan: str = ""

    def quantile(self, q: int) -> float:
        return statistics.quantiles(self.timings_ms, n=100, method="inclusive")[q - 1]


async def measure(client: httpx.AsyncClient, cases: list[Case]) -> list[Result]:
    results = [Result(case, [], 0) for case in cases]
    for round_ in range(WARM_UP + REQUESTS):
        for result in results:
            began = time.perf_counter()
            response = await client.get("/notes", params=result.case.params, headers=result.case.account.headers)
            elapsed = (time.perf_counter() - began) * 1000
            response.raise_for_status()
            if round_ >= WARM_UP:
                result.timings_ms.append(elapsed)
            result.items = len(response.json()["items"])
    return results


async def explain(connection: asyncpg.Connection, case: Case, plan_cache_mode: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement the app runs for `case`, with the same parameters."""
    sort = SORTS[case.params.get("sort", "-updated_at")]
    # The caller as the app sees it, so the plan includes the session's liveness check.
    caller = Caller(id=case.account.id, session_id=case.account.session_id, personal_token_hash=None, can_write=True)
    query = page_query(caller=caller, filters=case.filters, sort=sort, limit=PAGE, after=case.after)
    query.sql()  # builds the statement
    sql, values = query.query.get_parameterized_sql()
    # A prepared statement, as asyncpg runs it: only EXPLAIN EXECUTE shows which plan the plan cache
    # picks, and EXECUTE takes no parameters, so the values go in as literals, quoted by the server.
    literals = [await connection.fetchval("SELECT quote_literal($1::text)", str(value)) for value in values]
    arguments = ", ".join(literals)
    async with connection.transaction():
        await connection.execute(f"SET LOCAL plan_cache_mode = {plan_cache_mode}")
        await connection.execute(f"PREPARE listing_page AS {sql}")
        rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE listing_page({arguments})")
        await connection.execute("DEALLOCATE listing_page")
    return "\n".join(row[0] for row in rows)


# The report


def execution_ms(plan: str) -> str:
    return plan.rsplit("Execution Time: ", 1)[1].removesuffix(" ms")


def hand_added(previous: str) -> list[str]:
    """The hand-written sections of the last report (after the table, before the plans), kept as they are."""
    head = previous.split("\n## Plans\n", 1)[0]
    start = head.find("\n### ")
    return ["", head[start + 1 :].rstrip()] if start != -1 else []


def report(results: list[Result], facts: dict[str, str], previous: str) -> str:
    first = results[0]
    deep = results[1]
    lines = [
        "# GET /notes at a million notes (PostgreSQL)",
        "",
        "Written by `make bench-listing` (bench/listing.py); its docstring says how.",
        "",
        *(f"- {key}: {value}" for key, value in facts.items()),
        "",
        f"Each row: {REQUESTS} sequential requests over HTTP to uvicorn on loopback (after {WARM_UP} to warm up),",
        "the kinds interleaved; milliseconds from sending the request to the last byte of the response.",
        "`SQL` is the statement's execution time in PostgreSQL (EXPLAIN ANALYZE, after the run) with the",
        "plan the app gets (plan_cache_mode=force_custom_plan, notes_app/db.py), and with the generic plan",
        "that PostgreSQL may otherwise settle on after five runs of a prepared statement.",
        "",
        "| request | items | p50 | p90 | p99 | max | SQL | SQL, generic plan | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        p50, p99 = result.quantile(50), result.quantile(99)
        targets = [(f"p50 <= {P50_MS:.0f}", p50 <= P50_MS)]
        if result is deep:
            limit = DEEP_P99_RATIO * first.quantile(99)
            targets.append((f"p99 <= {DEEP_P99_RATIO} x first page p99 = {limit:.1f}", p99 <= limit))
        if result.case.p99_ms is not None:
            targets.append((f"p99 <= {result.case.p99_ms:.0f}", p99 <= result.case.p99_ms))
        lines.append(
            f"| {result.case.name} | {result.items} | {p50:.1f} | {result.quantile(90):.1f} | {p99:.1f} "
            f"| {max(result.timings_ms):.1f} | {execution_ms(result.plan)} | {execution_ms(result.generic_plan)} "
            f"| {'; '.join(t for t, _ in targets)} | {'yes' if all(ok for _, ok in targets) else '**no**'} |"
        )
    lines += hand_added(previous)
    lines += ["", "## Plans", "", "EXPLAIN (ANALYZE, BUFFERS) of the statement each request runs.", ""]
    for result in results:
        lines += [f"### {result.case.name}", "", f"`GET /notes?{httpx.QueryParams(result.case.params)}`", ""]
        lines += ["```", result.plan, "```", "", "The generic plan, for comparison:", ""]
        lines += ["```", result.generic_plan, "```", ""]
    return "\n".join(lines)


async def pick_words(connection: asyncpg.Connection, heavy_id: int, facts: dict[str, str]) -> tuple[str, str, str, str]:
    """Two words that are neither rare nor everywhere, and a popular and a rare tag, by counting the
    heavy user's notes."""
    words = await connection.fetch(
        "SELECT word, ndoc FROM ts_stat($$SELECT search_vector FROM note WHERE owner_id = " + str(heavy_id) + "$$)"
        " WHERE length(word) >= 4 ORDER BY ndoc DESC, word LIMIT 200"
    )
    tags = await connection.fetch(
        "SELECT tag, count(*) AS notes FROM note, jsonb_array_elements_text(tags) AS tag WHERE owner_id = $1"
        " GROUP BY tag ORDER BY notes DESC, tag",
        heavy_id,
    )
    first, second, popular, rare = words[20], words[40], tags[5], tags[150]
    facts["q"] = (
        f"{first['word']!r} in {first['ndoc']:,} of the heavy user's notes, {second['word']!r} in {second['ndoc']:,}"
    )
    facts["tags"] = (
        f"popular {popular['tag']!r} on {popular['notes']:,} notes, rare {rare['tag']!r} on {rare['notes']:,}"
    )
    return first["word"], second["word"], popular["tag"], rare["tag"]


async def main(arguments: argparse.Namespace) -> None:
    url = database_url(DATABASE)
    secret_key = secrets.token_urlsafe(48)
    facts: dict[str, str] = {
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}; client, app and PostgreSQL share them",
    }
    seeding = not arguments.reuse
    admin = await asyncpg.connect(dsn(SERVER_URL))
    try:
        facts["PostgreSQL"] = (await admin.fetchval("SHOW server_version")) + ", the server's settings untouched"
        if seeding:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    if seeding:
        migrate = [sys.executable, "-m", "notes_app.migrate"]
        env = {**os.environ, "DATABASE_URL": url}
        await asyncio.to_thread(subprocess.run, migrate, cwd=PROJECT_ROOT, env=env, check=True)

    connection = await asyncpg.connect(dsn(url))
    try:
        with serve(url, secret_key) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                heavy = await log_in(client, "heavy", sign_up=seeding)
                typical = await log_in(client, "typical", sign_up=seeding)
                if seeding:
                    began = time.perf_counter()
                    await seed_all(connection, heavy.id, typical.id, arguments.notes)
                    facts["seeding"] = f"{time.perf_counter() - began:.0f} s (COPY, index builds, VACUUM ANALYZE)"
                facts.update(await describe_data(connection, heavy.id, typical.id))
                cases = await build_cases(connection, heavy, typical, secret_key, facts)
                facts["load average before"] = " ".join(f"{load:.2f}" for load in os.getloadavg())
                results = await measure(client, cases)
                facts["load average after"] = " ".join(f"{load:.2f}" for load in os.getloadavg())
        await Tortoise.init(config=tortoise_config(Settings(database_url=url)))
        try:
            for result in results:
                result.plan = await explain(connection, result.case, "force_custom_plan")
                result.generic_plan = await explain(connection, result.case, "force_generic_plan")
        finally:
            await Tortoise.close_connections()
    finally:
        await connection.close()
    REPORT.write_text(report(results, facts, REPORT.read_text() if REPORT.exists() else "") + "\n")
    print(REPORT.read_text().split("## Plans")[0])
    if seeding and not arguments.keep:
        admin = await asyncpg.connect(dsn(SERVER_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        finally:
            await admin.close()


async def seed_all(connection: asyncpg.Connection, heavy_id: int, typical_id: int, total: int) -> None:
    rng = random.Random(SEED)
    other_ids = [
        row["id"]
        for row in await connection.fetch(
            'INSERT INTO "user" (username, password_hash, created_at)'
            " SELECT 'user' || n, '!', now() FROM generate_series(1, $1) AS n RETURNING id",
            OTHER_USERS - 1,
        )
    ]
    words = make_vocabulary(rng)
    tags = rng.sample(words[500:3000], TAGS)
    absent = await absent_forms(connection, await absent_word(connection, words), words)
    print(f"seeding {total:,} notes")
    corpus = Corpus(rng=rng, words=words, tags=tags, heavy_id=heavy_id, other_ids=[typical_id, *other_ids])
    await seed(connection, corpus, total, absent)


async def absent_word(connection: asyncpg.Connection, words: list[str]) -> str:
    """The word the heavy user's newest notes never hold (see ABSENT_RANK): not a stop word."""
    for word in words[ABSENT_RANK:]:
        if len(word) >= 4 and await connection.fetchval("SELECT plainto_tsquery('english', $1)::text <> ''", word):
            return word
    raise RuntimeError("no absent word in the vocabulary")


async def absent_forms(connection: asyncpg.Connection, word: str, words: list[str]) -> frozenset[str]:
    """Every word of the vocabulary that a search for `word` finds (the same English stem)."""
    rows = await connection.fetch(
        "SELECT w FROM unnest($1::text[]) AS w WHERE to_tsvector('english', w) @@ plainto_tsquery('english', $2)",
        words,
        word,
    )
    return frozenset(row["w"] for row in rows)


async def build_cases(
    connection: asyncpg.Connection, heavy: Account, typical: Account, secret_key: str, facts: dict[str, str]
) -> list[Case]:
    first_word, second_word, popular_tag, rare_tag = await pick_words(connection, heavy.id, facts)
    common, common_notes = await connection.fetchrow(
        "SELECT word, ndoc FROM ts_stat($$SELECT search_vector FROM note WHERE owner_id = " + str(heavy.id) + "$$)"
        " ORDER BY ndoc DESC, word LIMIT 1"
    )
    facts["most common word"] = f"{common!r} in {common_notes:,} of the heavy user's notes"
    q = f"{first_word} {second_word}"
    absent = await absent_word(connection, make_vocabulary(random.Random(SEED)))
    holding, fresh_holding = await connection.fetchrow(
        "SELECT count(*), count(*) FILTER (WHERE updated_at >= (SELECT min(updated_at) FROM"
        " (SELECT updated_at FROM note WHERE owner_id = $1 ORDER BY updated_at DESC LIMIT $3) AS newest))"
        " FROM note WHERE owner_id = $1 AND search_vector @@ plainto_tsquery('english', $2)",
        heavy.id,
        absent,
        FRESH,
    )
    facts["absent word"] = (
        f"{absent!r} in {holding:,} of the heavy user's notes, {fresh_holding} of the newest {FRESH:,}"
    )
    listed = await connection.fetchval(
        "SELECT count(*) FROM note WHERE owner_id = $1 AND NOT archived AND deleted_at IS NULL", heavy.id
    )
    pages = min(DEEP_PAGES, listed // PAGE - 1)
    # The deep page's cursor, made by the app's own signer from the last note of page `pages`.
    row = await connection.fetchrow(
        "SELECT updated_at, id FROM note WHERE owner_id = $1 AND NOT archived AND deleted_at IS NULL"
        " ORDER BY updated_at DESC, id DESC OFFSET $2 LIMIT 1",
        heavy.id,
        pages * PAGE - 1,
    )
    deep = Cursor(value=row["updated_at"], id=row["id"])
    signer = cursor_signer(signing_key=secret_key, owner_id=heavy.id, sort="-updated_at", filters=NoteFilters())
    return [
        Case("first page", heavy, {"limit": PAGE}),
        Case(f"deep page ({pages:,} pages in)", heavy, {"limit": PAGE, "cursor": signer.encode(deep)}, after=deep),
        Case("popular tag", heavy, {"limit": PAGE, "tag": popular_tag}, NoteFilters(tags=(popular_tag,))),
        Case("rare tag", heavy, {"limit": PAGE, "tag": rare_tag}, NoteFilters(tags=(rare_tag,))),
        Case("two-word q", heavy, {"limit": PAGE, "q": q}, NoteFilters(text=q)),
        Case(
            "two-word q + popular tag",
            heavy,
            {"limit": PAGE, "q": q, "tag": popular_tag},
            NoteFilters(tags=(popular_tag,), text=q),
        ),
        Case("two-word q, typical user", typical, {"limit": PAGE, "q": q}, NoteFilters(text=q)),
        Case(
            f"word absent from the newest {FRESH:,}",
            heavy,
            {"limit": PAGE, "q": absent},
            NoteFilters(text=absent),
            p99_ms=ABSENT_P99_MS,
        ),
        # The same word for a small account (in ~1/16 of its notes, the newest included).
        Case("absent word's q, typical user", typical, {"limit": PAGE, "q": absent}, NoteFilters(text=absent)),
        # A word in most notes: a plan that orders a word's matches by time inside an index (RUM, see the
        # hand-added section) costs in proportion to how often the word occurs, where the walk stops at once.
        Case(f"most common word ({common!r})", heavy, {"limit": PAGE, "q": common}, NoteFilters(text=common)),
    ]


async def describe_data(connection: asyncpg.Connection, heavy_id: int, typical_id: int) -> dict[str, str]:
    notes, trashed, heavy, listed, typical = await connection.fetchrow(
        "SELECT count(*), count(*) FILTER (WHERE deleted_at IS NOT NULL), count(*) FILTER (WHERE owner_id = $1),"
        " count(*) FILTER (WHERE owner_id = $1 AND NOT archived AND deleted_at IS NULL),"
        " count(*) FILTER (WHERE owner_id = $2) FROM note",
        heavy_id,
        typical_id,
    )
    size = await connection.fetchval("SELECT pg_size_pretty(pg_total_relation_size('note'))")
    return {
        "data": (
            f"{notes:,} notes ({size} with indexes) of {OTHER_USERS + 1:,} users, {trashed:,} of them in the"
            f" trash; the heavy user has {heavy:,} ({listed:,} listed: not archived, not trashed), the typical"
            f" user {typical:,}"
        ),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help=f"keep the database {DATABASE} afterwards")
    parser.add_argument("--reuse", action="store_true", help=f"measure a kept {DATABASE} again, without seeding")
    parser.add_argument("--notes", type=int, default=NOTES, help="notes to seed (default: %(default)s)")
    asyncio.run(main(parser.parse_args()))
