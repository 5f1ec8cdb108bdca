"""`make bench`: notes_app against the baseline apps, under the same load, on this machine.

Set-up (once per run): recreate two databases on the local PostgreSQL, notes_bench (notes_app's
schema, from its own migrations) and notes_bench_baseline (the baselines' table); find out whether
notes_app has accounts yet (then sign up the bench user) and whether it serves `?q=` search.

Then, per round, per app (interleaved: A B C D E F A B C D E F ...): reseed the app's database,
start it under uvicorn (uvloop + httptools, no uvicorn access log), get a token where the app wants one,
run smoke checks, and for each workload a short wrk warm-up (discarded) followed by a measured wrk run,
recording req/s, latency, errors, CPU per request of the server and of PostgreSQL, and peak RSS.
Writes bench/RESULTS.md (a --quick run writes bench/results/RESULTS-quick.md) and the raw numbers as
JSON under bench/results/.
"""

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import jwt
from harness import access_log, chart, db, fanout, notes_api, procstats, report, smoke
from harness.client import Client
from harness.server import Server, start_server
from harness.transfer import measure_transfer
from harness.wrk import WrkResult, run_wrk

if TYPE_CHECKING:
    from tests.pgbouncer import PgBouncer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
VENV_BIN = Path(sys.executable).parent  # bench/.venv/bin when run by `make bench`
# Run in this order within each app's turn: the writes come last because the notes they add or change
# are the newest, first in every list and search page, and would change what the reads measure (a
# search would first have to skip thousands of fresh notes that do not hold its word). patch before
# post, so that it changes seeded notes only.
WORKLOADS = ["get", "list", "search", "feed", "patch", "post"]


@dataclass(frozen=True)
class App:
    name: str
    asgi: str
    # baseline: the shared baselines' own table; raw_full: notes_app's database and tokens, hand-written
    kind: Literal["baseline", "raw_full", "notes_app"]
    workers: int = 1
    only: tuple[str, ...] | None = None  # the workloads it is measured on, when not all
    default: bool = True  # in the default --apps
    pgbouncer: bool = False  # reaches PostgreSQL through PgBouncer in transaction mode (DB_PGBOUNCER=true)


APPS = {
    app.name: app
    for app in (
        # The fair floor (bench/README.md): notes_app's answers and durable work, hand-written with asyncpg.
        App("raw_full", "apps.raw_full:app", "raw_full"),
        # The seed's approach on its own simpler table; no PATCH target for it (issue 16).
        App("seed_databases", "apps.seed_databases:app", "baseline", only=("get", "list", "post")),
        # Off by default (not in issue 16's targets; --apps adds them): the bare-asyncpg ceiling on the
        # baselines' table, and the naive ORM app.
        App("raw_asyncpg", "apps.raw_asyncpg:app", "baseline", default=False),
        App("tortoise_naive", "apps.tortoise_naive:app", "baseline", default=False),
        App("notes_app", "notes_app.main:app", "notes_app"),
        # The second figure: the same GET with two uvicorn worker processes. It and the PgBouncer figure
        # run GET only, so that a default `make bench` stays within about 15 minutes.
        App("notes_app_2w", "notes_app.main:app", "notes_app", workers=2, only=("get",)),
        # The same app behind PgBouncer (transaction mode): the price of no prepared-statement cache and
        # one more hop, against notes_app's figures from the same run.
        App("notes_app_pgbouncer", "notes_app.main:app", "notes_app", pgbouncer=True, only=("get",)),
    )
}


def log(*parts: object) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}]", *parts, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--apps", default=",".join(name for name, app in APPS.items() if app.default),
                        help="comma list, interleave order (%(default)s); or raw_asyncpg, tortoise_naive")  # fmt: skip
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma list (%(default)s)")
    parser.add_argument("--rounds", type=int, help="rounds of all apps (default 3; --quick: 1)")
    parser.add_argument("--duration", type=int, help="measured seconds per run (default 8; --quick: 3)")
    parser.add_argument("--warmup", type=int, help="warm-up seconds per run (default 2; --quick: 1)")
    parser.add_argument("--rows", type=int, default=100_000, help="seeded notes (%(default)s)")
    parser.add_argument("--quick", action="store_true", help="try it: 1 round of 3 s runs, ~3 minutes")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool-size", type=int, default=5, help="database pool of every app (%(default)s)")
    parser.add_argument("--cursor-pages", type=int, default=200, help="list pages walked for cursors")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-transfer", dest="transfer", action="store_false",
                        help="skip the export/import measurement after the rounds")  # fmt: skip
    parser.add_argument("--import-notes", type=int, default=10_000, help="files in the measured import "
                        "(%(default)s: the most one archive may hold)")  # fmt: skip
    parser.add_argument("--access-log-pairs", type=int, help="notes_app GET with its access log on, then off "
                        "(order swapped each pair), after the rounds (default 6; --quick: 1; 0 skips)")  # fmt: skip
    parser.add_argument("--quiet-pct", type=float, default=10, help="before each run, wait until the "
                        "machine is at most this %% busy ...")  # fmt: skip
    parser.add_argument("--quiet-wait", type=float, default=15, help="... or this many seconds passed")
    parser.add_argument("--quiet-budget", type=float, default=120, help="most seconds of such waits per run")
    parser.add_argument("--out", type=Path, help="report path (default bench/RESULTS.md; --quick: bench/"
                        "results/RESULTS-quick.md, so a trial never replaces the real figures)")  # fmt: skip
    args = parser.parse_args()
    quick = args.quick
    args.rounds = args.rounds or (1 if quick else 3)
    args.duration = args.duration or (3 if quick else 8)
    args.warmup = args.warmup or (1 if quick else 2)
    if args.access_log_pairs is None:
        args.access_log_pairs = 1 if quick else 6
    args.out = args.out or (RESULTS / "RESULTS-quick.md" if quick else HERE / "RESULTS.md")
    args.apps = [a for a in args.apps.split(",") if a]
    args.workloads = [w for w in args.workloads.split(",") if w]
    for name in args.apps:
        if name not in APPS:
            parser.error(f"unknown app {name!r}; known: {', '.join(APPS)}")
    for workload in args.workloads:
        if workload not in WORKLOADS:
            parser.error(f"unknown workload {workload!r}; known: {', '.join(WORKLOADS)}")
    args.workloads = [w for w in WORKLOADS if w in args.workloads]  # always in WORKLOADS' order
    if not 1 <= args.rounds <= 20 or not 1 <= args.duration <= 120 or not 1 <= args.warmup <= 60:
        parser.error("rounds 1..20, duration 1..120 s, warmup 1..60 s")
    return args


# ---------------------------------------------------------------- set-up
@dataclass
class NotesAppState:
    """What the set-up found out about notes_app; the same for every round."""

    accounts: bool = False
    search: bool = False
    feed: bool = False  # GET /notes/changes (and webhooks) served
    owner_id: int | None = None
    session_id: int | None = None  # the bench user's session that raw_full's tokens name
    columns: str = ""
    secret_key: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(48))


def app_env(app: App, args: argparse.Namespace, state: NotesAppState) -> dict[str, str]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    if app.kind == "notes_app":
        url = db.tortoise_url(db.NOTES_DB)
        if app.pgbouncer:
            url = pgbouncer(args).url(url)
            env.update(DB_PGBOUNCER="true")
        env.update(
            DATABASE_URL=url,
            # With PostgreSQL, notes_app (with accounts) refuses to start without a signing key.
            SECRET_KEY=state.secret_key,
            # min = max, like the baselines' pools: no connection is opened during a measured run.
            DB_POOL_MIN=str(args.pool_size),
            DB_POOL_MAX=str(args.pool_size),
        )
    else:
        database = db.BASELINE_DB if app.kind == "baseline" else db.NOTES_DB
        # raw_full takes notes_app's tokens and signs notes_app's cursors: the same SECRET_KEY.
        env.update(DATABASE_URL=db.dsn(database), POOL_SIZE=str(args.pool_size), SECRET_KEY=state.secret_key)
    return env


_pgbouncer: "PgBouncer | None" = None


def pgbouncer(args: argparse.Namespace) -> "PgBouncer":
    """The run's one PgBouncer (tests/pgbouncer.py: the Debian binary, transaction mode), started on first
    use with as many server connections as the app's pool, and stopped when the run ends."""
    global _pgbouncer
    if _pgbouncer is None:
        sys.path.insert(0, str(ROOT))
        from tests.pgbouncer import PgBouncer  # imported here: the project root is not on the path before

        _pgbouncer = PgBouncer(db.tortoise_url(db.NOTES_DB), pool_size=args.pool_size)
        _pgbouncer.start()
    return _pgbouncer


def start(app: App, args: argparse.Namespace, state: NotesAppState) -> Server:
    return start_server(
        asgi=app.asgi,
        port=args.port,
        workers=app.workers,
        env=app_env(app, args, state),
        cwd=HERE,  # apps.* import from here; notes_app reads no stray .env from the project root
        uvicorn=VENV_BIN / "uvicorn",
        log=RESULTS / f"{app.name}.log",
    )


def prepare(args: argparse.Namespace) -> NotesAppState:
    state = NotesAppState()
    db.recreate_database(db.BASELINE_DB)
    db.recreate_database(db.NOTES_DB)
    if all(APPS[name].kind == "baseline" for name in args.apps):
        return state
    notes_app = APPS["notes_app"]
    migrated = db.migrate_notes(str(VENV_BIN / "python"), env=app_env(notes_app, args, state), cwd=str(HERE))
    log(f"migrated {db.NOTES_DB}:", migrated)
    state.columns = ", ".join(f"{c.name} {c.type}" for c in db.note_columns())
    log("note:", state.columns)
    server = start(notes_app, args, state)
    try:
        client = Client(server.base)
        try:
            notes_api.sign_up(client)
            state.accounts = True
        except notes_api.AccountsUnsupported:
            state.accounts = False
        state.search = "q" in notes_api.list_parameters(client)
        state.feed = notes_api.serves_feed(client)
        if state.accounts:
            # A session of the bench user that raw_full's tokens name (it proves the session alive in
            # its SQL, as notes_app does); notes_app's own turns log in afresh.
            claims = jwt.decode(notes_api.log_in(client).access_token, options={"verify_signature": False})
            state.session_id = int(claims["sid"])
    finally:
        server.stop()
    if state.accounts:
        table = db.owner_table()
        if table is None:
            raise RuntimeError("notes_app serves POST /users but note has no owner_id foreign key")
        state.owner_id = db.user_id(table, notes_api.BENCH_USER)
    log(f"notes_app: accounts {'yes' if state.accounts else 'no (runs without auth)'}, "
        f"search {'yes' if state.search else 'no'}")  # fmt: skip
    return state


def raw_full_token(state: NotesAppState) -> str:
    """An access token as notes_app issues them (sub, sid, iat, exp; HS256 under SECRET_KEY), naming
    the bench user's session: raw_full checks it exactly as notes_app would."""
    if state.owner_id is None or state.session_id is None:
        raise RuntimeError("raw_full needs notes_app's accounts (the bench user and a session)")
    now = int(time.time())
    claims = {"sub": str(state.owner_id), "sid": state.session_id, "iat": now, "exp": now + 3600}
    return jwt.encode(claims, state.secret_key, algorithm="HS256")


def workloads_of(app: App, args: argparse.Namespace, state: NotesAppState) -> list[str]:
    chosen = [w for w in args.workloads if app.only is None or w in app.only]
    if app.kind != "notes_app" or not state.search:
        # SEARCH HOOK: the search workload runs only against a notes_app whose GET /notes declares `q`
        # (the baselines have no search). Nothing stands in for it until then.
        chosen = [w for w in chosen if w != "search"]
    if app.kind != "notes_app" or not state.feed:
        chosen = [w for w in chosen if w != "feed"]  # notes_app's change feed: the others have none
    return chosen


# ---------------------------------------------------------------- one app, one round
@dataclass
class Block:
    """What one app's turn in a round needs: its server, token and the wrk arguments per workload."""

    app: App
    server: Server
    token: str | None
    script_args: dict[str, list[str]]
    gate: procstats.QuietGate


def measure(
    block: Block,
    workload: str,
    args: argparse.Namespace,
    postmaster: int,
    rnd: int,
) -> report.Measurement:
    def load(seconds: int) -> WrkResult:
        return run_wrk(
            url=block.server.base,
            script_args=block.script_args[workload],
            seconds=seconds,
            threads=args.threads,
            connections=args.connections,
            token=block.token,
            wrk=args.wrk,
        )

    waited, busy = block.gate.wait()
    if waited > 1.5:
        log(f"  waited {waited:.0f} s for a quieter machine (busy {busy:.0f}%)")
    load(args.warmup)
    pids = block.server.pids()
    databases = (db.NOTES_DB, db.BASELINE_DB)
    busy0, wrk0 = procstats.busy_ticks(), procstats.children_ticks()
    srv0 = procstats.cpu_ticks(pids)
    pg0 = procstats.cpu_ticks(procstats.postgres_pids(postmaster, databases))
    with procstats.RssSampler(pids) as rss:
        result = load(args.duration)
    srv = procstats.ticks_between(srv0, procstats.cpu_ticks(pids))
    pg = procstats.ticks_between(pg0, procstats.cpu_ticks(procstats.postgres_pids(postmaster, databases)))
    busy1, wrk1 = procstats.busy_ticks(), procstats.children_ticks()
    if not block.server.alive():
        raise RuntimeError(f"{block.app.name} died during {workload}")
    hwm_kib = max(procstats.status_kib(pid, "VmHWM") for pid in pids)
    per_request = 1e6 / procstats.CLK_TCK / max(result.requests, 1)
    other = max((busy1 - busy0) - srv - pg - (wrk1 - wrk0), 0)
    return report.Measurement(
        round=rnd,
        app=block.app.name,
        workload=workload,
        workers=block.app.workers,
        requests=result.requests,
        rps=result.rps,
        p50_us=result.p50_us,
        p90_us=result.p90_us,
        p99_us=result.p99_us,
        max_us=result.max_us,
        errors=result.errors,
        error_detail=f"{result.err_connect}/{result.err_read}/{result.err_write}/"
        f"{result.err_status}/{result.err_timeout}",
        srv_cpu_us=srv * per_request,
        pg_cpu_us=pg * per_request,
        other_cpu_pct=100 * other / (procstats.CLK_TCK * args.duration * procstats.CPUS),
        peak_rss_mb=rss.peak_kib * 1024 / 1e6,
        hwm_mb=hwm_kib * 1024 / 1e6,
    )


def run_block(
    app: App,
    rnd: int,
    args: argparse.Namespace,
    state: NotesAppState,
    postmaster: int,
    gate: procstats.QuietGate,
    out: report.Report,
) -> None:
    workloads = workloads_of(app, args, state)
    if app.kind == "baseline":
        seconds = db.seed_baseline(args.rows)
        first_id, last_id = 1, args.rows
    else:
        seed = db.seed_notes(args.rows, owner_id=state.owner_id)
        seconds, first_id, last_id = seed.seconds, seed.first_id, seed.last_id
    log(f"round {rnd} {app.name}: seeded {args.rows:,} notes in {seconds:.1f} s, starting")
    server = start(app, args, state)
    try:
        client = Client(server.base)
        token = None
        if app.kind == "raw_full":
            token = raw_full_token(state)
        elif app.kind == "notes_app" and state.accounts:
            issued = notes_api.log_in(client)
            needed = len(workloads) * (args.warmup + args.duration + args.quiet_wait + 2)
            if issued.expires_in and issued.expires_in < needed:
                raise RuntimeError(f"token lasts {issued.expires_in} s, this block needs ~{needed:.0f} s")
            token = issued.access_token
        client.token = token
        if app.kind == "baseline":
            fails = smoke.smoke_baseline(client, args.rows)
        else:
            fails = smoke.smoke_notes_app(
                client,
                first_id=first_id,
                last_id=last_id,
                accounts=state.accounts,
                search=state.search and app.kind == "notes_app",
                history=app.kind == "notes_app",  # raw_full writes revisions but serves no history route
            )
        out.smoke.setdefault(app.name, []).extend(fails)
        if fails:
            log(f"  smoke FAILED: {fails}")
        script_args = {
            "get": ["get", str(first_id), str(last_id)],
            "patch": ["patch", str(first_id), str(last_id)],
            "post": ["post"],
        }
        if app.kind == "baseline":
            script_args["list"] = ["offset", "0", "999"]
        elif "list" in workloads:
            cursors = notes_api.collect_cursors(client, pages=args.cursor_pages)
            cursor_file = RESULTS / "cursors.txt"
            cursor_file.write_text("\n".join(cursors) + "\n")
            script_args["list"] = ["cursor", str(cursor_file)]
        if "feed" in workloads:
            feed_cursors = notes_api.collect_feed_cursors(client, pages=args.cursor_pages)
            feed_file = RESULTS / "feed_cursors.txt"
            feed_file.write_text("\n".join(feed_cursors) + "\n")
            script_args["feed"] = ["feed", str(feed_file)]
        if "search" in workloads:
            words_file = RESULTS / "search_words.txt"
            words_file.write_text("\n".join(db.SEARCH_WORDS) + "\n")
            script_args["search"] = ["search", str(words_file)]
        block = Block(app, server, token, script_args, gate)
        for workload in workloads:
            m = measure(block, workload, args, postmaster, rnd)
            out.runs.append(m)
            log(f"  {workload:6s} {m.rps:7.0f} req/s  p50 {m.p50_us / 1000:5.1f} ms"
                f"  p99 {m.p99_us / 1000:6.1f} ms  errors {m.errors}  srv {m.srv_cpu_us:4.0f} µs/req"
                f"  pg {m.pg_cpu_us:4.0f} µs/req  rss {m.peak_rss_mb:4.0f} MB"
                f"  other CPU {m.other_cpu_pct:.0f}%")  # fmt: skip
    finally:
        server.stop()


def webhook_fanout(args: argparse.Namespace, state: NotesAppState) -> str:
    """notes_app delivering webhooks to a local receiver (harness/fanout.py), after the wrk rounds."""
    notes = 200 if args.quick else 1000
    db.seed_notes(0, owner_id=state.owner_id)  # an empty table: the bulk creates are the only notes
    app = APPS["notes_app"]
    env = app_env(app, args, state) | {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_POLL_SECONDS": "0.1"}
    server = Server(asgi=app.asgi, port=args.port, workers=1, env=env, cwd=HERE, uvicorn=VENV_BIN / "uvicorn",
                    log=RESULTS / "notes_app-fanout.log")  # fmt: skip
    try:
        server.wait_ready()
        client = Client(server.base, timeout=60)
        client.token = notes_api.log_in(client).access_token
        result = fanout.measure(client, notes=notes)
    finally:
        server.stop()
    log(f"webhook fan-out: {result.events} events in {result.deliver_seconds:.1f} s, "
        f"{result.events_per_second:.0f} events/s")  # fmt: skip
    return (
        f"**webhook fan-out**: {result.notes} notes created by POST /notes/bulk for {result.webhooks} webhooks "
        f"= {result.events:,} events, each signed and POSTed to a local receiver (1 uvicorn worker, "
        f"WEBHOOK_DELIVERY_CONCURRENCY default): written in {result.write_seconds:.2f} s, all delivered "
        f"{result.deliver_seconds:.1f} s after the first write: **{result.events_per_second:.0f} events/s** "
        "end to end (outbox insert, claim, sign, POST, record)."
    )


def run_access_log(args: argparse.Namespace, state: NotesAppState, postmaster: int, gate: procstats.QuietGate,
                   out: report.Report) -> None:  # fmt: skip
    """notes_app GET /notes/{id} with its access log on and off: two servers on one seeded database,
    measured in turn (on-off, then off-on, ...), so drift in the machine's load falls on both alike."""
    seed = db.seed_notes(args.rows, owner_id=state.owner_id)
    base = APPS["notes_app"]
    off_config = access_log.config_off(RESULTS / "access-log-off.json")
    servers: dict[str, Server] = {}
    try:
        switches = (("on", "true", ()), ("off", "false", ("--log-config", str(off_config))))
        for port, (switch, setting, extra) in enumerate(switches, args.port):
            log_path = RESULTS / f"notes_app-access-log-{switch}.log"
            log_path.unlink(missing_ok=True)
            env = app_env(base, args, state) | {"ACCESS_LOG": setting}
            servers[switch] = Server(asgi=base.asgi, port=port, workers=1, env=env, cwd=HERE,
                                     uvicorn=VENV_BIN / "uvicorn", log=log_path, extra_args=extra)  # fmt: skip
        for server in servers.values():
            server.wait_ready()
        token = notes_api.log_in(Client(servers["on"].base)).access_token
        script = {"get": ["get", str(seed.first_id), str(seed.last_id)]}
        for pair in range(1, args.access_log_pairs + 1):
            order = ("on", "off") if pair % 2 else ("off", "on")
            for switch in order:
                app = dataclasses.replace(base, name=f"notes_app access log {switch}")
                m = measure(Block(app, servers[switch], token, script, gate), "get", args, postmaster, pair)
                out.access_log.append(m)
                log(f"  access log {switch:3s} {m.rps:7.0f} req/s  p99 {m.p99_us / 1000:6.1f} ms  "
                    f"srv {m.srv_cpu_us:4.0f} µs/req")  # fmt: skip
    finally:
        for server in servers.values():
            server.stop()
    lines = (access_log.lines_written(RESULTS / "notes_app-access-log-on.log"),
             access_log.lines_written(RESULTS / "notes_app-access-log-off.log"))  # fmt: skip
    out.access_log_lines = lines
    if lines[0] == 0 or lines[1] > 0:
        raise RuntimeError(f"the access log was not on and off as asked: {lines[0]} lines on, {lines[1]} off")
    out.access_log.sort(key=lambda m: (m.app.endswith("off"), m.round))
    cost = report.access_log_cost(out)
    log(f"access log cost: {cost:.1f}% of GET req/s" if cost is not None else "access log cost: not measured")


def run_transfer(args: argparse.Namespace, state: NotesAppState, out: report.Report) -> None:
    """GET /export of the whole seeded account, then POST /import of a cut of it: once, after the rounds,
    at a tenth of the seeded notes and at all of them, each with a fresh server, so that the two exports'
    peak RSS show whether memory grows with the number of notes."""
    out.transfer = []
    for rows in (max(args.rows // 10, 1), args.rows):
        seed = db.seed_notes(rows, owner_id=state.owner_id)
        log(f"transfer: seeded {rows:,} notes in {seed.seconds:.1f} s")
        server = start(APPS["notes_app"], args, state)
        try:
            token = notes_api.log_in(Client(server.base)).access_token
            result = measure_transfer(
                base=server.base, token=token, pids=server.pids(), expected=rows, import_notes=args.import_notes
            )
        finally:
            server.stop()
        out.transfer += result.lines()
    # The report's per-second figures: the run at all the seeded notes.
    out.export_notes_per_s, out.import_notes_per_s = (
        result.exported / result.export_seconds,
        result.imported / result.import_seconds,
    )
    for line in out.transfer:
        log("  " + line.replace("**", ""))


# ---------------------------------------------------------------- report set-up lines
def versions() -> str:
    names = ["fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools", "asyncpg", "databases",
             "SQLAlchemy", "tortoise-orm", "orjson", "PyJWT"]  # fmt: skip
    found = []
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    return ", ".join(found)


def notes_app_revision() -> str:
    def git(*cmd: str) -> str:
        # --no-optional-locks: never take the index lock another engineer's git may need right now.
        done = subprocess.run(["git", "--no-optional-locks", "-C", str(ROOT), *cmd],
                              capture_output=True, text=True, check=False)  # fmt: skip
        return done.stdout.strip()

    head = git("log", "-1", "--format=%h %s")
    changed = git("status", "--porcelain", "--", "notes_app", "migrations", "pyproject.toml").splitlines()
    if not changed:
        return f"commit {head}; working tree clean"
    return f"commit {head} + {len(changed)} uncommitted change(s) in notes_app/, migrations/, pyproject.toml"


def setup_lines(args: argparse.Namespace, state: NotesAppState) -> dict[str, str]:
    wrk_version = subprocess.run([args.wrk, "-v"], capture_output=True, text=True, check=False)
    apps = args.apps
    auth = (
        "accounts detected: bench_user signed up via POST /users, token from POST /auth/token, sent as a "
        "bearer token on every request"
        if state.accounts
        else "no accounts yet (POST /users → 404): notes_app runs WITHOUT auth, while raw_full checks a JWT "
        "on every request, so the ratios vs raw_full flatter notes_app"
    )
    return {
        "machine": f"{procstats.CPUS} CPUs ({platform.machine()}), {platform.platform()}; wrk, the app and "
        "PostgreSQL share these cores (no pinning)",
        "database": f"{db.server_info()}; notes_app in `{db.NOTES_DB}` (its migrations), baselines in "
        f"`{db.BASELINE_DB}` (shared/bench's table); {args.rows:,} notes reseeded (256-char bodies) + "
        "VACUUM ANALYZE + CHECKPOINT before every app's turn",
        "notes_app": f"{notes_app_revision()}; `note` columns: {state.columns or '-'}",
        "auth": auth,
        "server": f"uvicorn, --loop uvloop --http httptools --no-access-log, 1 worker (notes_app_2w: 2); "
        f"database pool {args.pool_size} (min = max) in every app; notes_app with SECRET_KEY set",
        "load": f"{(wrk_version.stdout + wrk_version.stderr).splitlines()[0].strip()}; {args.threads} "
        f"threads, {args.connections} connections; {args.warmup} s warm-up (discarded) + {args.duration} s "
        "measured per workload; closed loop (latency not corrected for coordinated omission)",
        "order": f"{args.rounds} round(s), apps interleaved in each: {' '.join(apps)}",
        "noise gate": f"before each warm-up, wait (≤ {args.quiet_wait:g} s each, ≤ {args.quiet_budget:g} s "
        f"in all) until the machine is ≤ {args.quiet_pct:g}% busy over 1 s",
        "python": f"Python {platform.python_version()}; {versions()}",
        "command": "make bench" + (f" BENCH_ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else ""),
    }


def main() -> None:
    args = parse_args()
    args.wrk = shutil.which("wrk")
    if args.wrk is None:
        sys.exit("wrk is not installed: run `make bench` (bench/setup.sh installs it)")
    RESULTS.mkdir(exist_ok=True)
    for old_log in RESULTS.glob("*.log"):  # servers' logs of the previous run (notes_app logs every request)
        old_log.unlink()
    started = time.time()
    try:
        run(args, started)
    finally:
        if _pgbouncer is not None:
            _pgbouncer.close()


def run(args: argparse.Namespace, started: float) -> None:
    state = prepare(args)
    plan = {name: workloads_of(APPS[name], args, state) for name in args.apps}
    n_runs = args.rounds * sum(len(w) for w in plan.values()) + 2 * args.access_log_pairs
    estimate = n_runs * (args.warmup + args.duration + 2) + args.rounds * len(plan) * 6
    most = (estimate + args.quiet_budget) / 60
    log(f"{n_runs} measured runs: about {estimate / 60:.0f} min, {most:.0f} at most")

    trial = " (quick trial)" if args.quick else ""
    title = f"notes_app benchmark — {dt.datetime.now():%Y-%m-%d %H:%M}{trial}"
    out = report.Report(title=title, setup={}, apps=args.apps, workloads=args.workloads, runs=[],
                        load=f"{args.connections} connections, pool {args.pool_size}")  # fmt: skip
    if "search" in args.workloads and not state.search:
        out.notes.append(
            "**search: skipped** — notes_app's GET /notes does not declare a `q` parameter yet (checked in "
            "its OpenAPI document). The workload is wired up (bench.lua `search`, words in every seeded "
            "title) and runs as soon as it does; the baselines have no search."
        )
    if "notes_app" in args.apps:
        out.notes.append(
            'raw_full does notes_app\'s work (bench/README.md, "raw_full"; bench/tests/test_parity.py proves '
            "the answers alike): same database and indexes, same token and its session's liveness in the "
            "SQL, 9 fields, keyset pages with the same signed cursors (a random one of the first "
            f"{args.cursor_pages} pages), and POST/PATCH writing the revision, the change counter and "
            "change_seq (and outbox rows when a webhook exists) in one statement. seed_databases pages by "
            "OFFSET (random 0..999) over `id` on its own five-column table."
        )
    postmaster = db.postmaster_pid()
    gate = procstats.QuietGate(
        threshold_pct=args.quiet_pct,
        max_wait=args.quiet_wait,
        budget=args.quiet_budget,
    )
    for rnd in range(1, args.rounds + 1):
        for name in args.apps:
            try:
                run_block(APPS[name], rnd, args, state, postmaster, gate, out)
            except Exception as error:  # one app's failure must not lose the others' figures
                message = f"round {rnd} {name}: {type(error).__name__}: {str(error)[:500]}"
                log("  " + message)
                out.failures.append(message)
    if "notes_app" in args.apps and state.feed and state.accounts:
        try:
            out.notes.append(webhook_fanout(args, state))
        except Exception as error:  # the wrk figures above stand without it
            out.failures.append(f"webhook fan-out: {type(error).__name__}: {str(error)[:500]}")
    if args.access_log_pairs and "notes_app" in args.apps and "get" in args.workloads:
        try:
            run_access_log(args, state, postmaster, gate, out)
        except Exception as error:  # the rounds' figures are kept whatever happens here
            message = f"access log: {type(error).__name__}: {str(error)[:500]}"
            log("  " + message)
            out.failures.append(message)
    if args.transfer and "notes_app" in args.apps and state.accounts:
        try:
            run_transfer(args, state, out)
        except Exception as error:  # the rounds' figures are kept whatever happens here
            message = f"transfer: {type(error).__name__}: {str(error)[:500]}"
            log("  " + message)
            out.failures.append(message)
    out.setup = setup_lines(args, state)
    out.setup["wall time"] = f"{time.time() - started:.0f} s"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    raw = {"setup": out.setup, "notes": out.notes, "failures": out.failures, "smoke": out.smoke,
           "runs": [dataclasses.asdict(m) for m in out.runs],
           "access_log": [dataclasses.asdict(m) for m in out.access_log], "access_log_lines": out.access_log_lines,
           "transfer": out.transfer, "export_notes_per_s": out.export_notes_per_s,
           "import_notes_per_s": out.import_notes_per_s}  # fmt: skip
    (RESULTS / f"raw-{stamp}.json").write_text(json.dumps(raw, indent=1))
    if out.runs:
        chart_path = args.out.with_suffix(".png")
        chart.draw(out, chart_path)
        out.chart = chart_path.name
    report.write(out, args.out)
    log(f"wrote {args.out} ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
