"""raw_full answers what notes_app answers, and leaves the same traces, on one seeded database.

Both apps run under uvicorn at once on one small database (notes_app's migrations, the bench's seed,
the bench user with one webhook subscribed to note.created and note.updated), with one access token
(notes_app's: raw_full takes its tokens). Reads must be byte-identical, cursors included; writes must
answer the same but for what necessarily differs (the new note's id, the write's instant), and leave
the same rows behind: the revision, the note's change_seq from the owner's counter, one outbox event
per webhook.
"""

import json
import secrets
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from harness import db, notes_api
from harness.client import Client, Reply
from harness.server import Server, start_server

HERE = Path(__file__).resolve().parent.parent
RESULTS = HERE / "results"
SEEDED = 120
UVICORN = Path(sys.executable).parent / "uvicorn"


class Apps:
    def __init__(self, notes_app: Client, raw_full: Client, owner_id: int) -> None:
        self.notes_app, self.raw_full, self.owner_id = notes_app, raw_full, owner_id

    def both(self, method: str, path: str, **kwargs: Any) -> tuple[Reply, Reply]:
        return self.notes_app.request(method, path, **kwargs), self.raw_full.request(method, path, **kwargs)


def _server(asgi: str, env: dict[str, str], name: str) -> Server:
    # A port the system has just handed out as free: fixed ones collide with other benches on the machine.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = RESULTS / f"parity-{name}.log"
    return start_server(asgi=asgi, port=port, workers=1, env=env, cwd=HERE, uvicorn=UVICORN, log=log)


@pytest.fixture(scope="module")
def apps() -> Iterator[Apps]:
    RESULTS.mkdir(exist_ok=True)
    secret = secrets.token_urlsafe(48)
    db.recreate_database(db.NOTES_DB)
    base_env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "SECRET_KEY": secret}
    notes_env = base_env | {
        "DATABASE_URL": db.tortoise_url(db.NOTES_DB),
        "DB_POOL_MIN": "2",
        "DB_POOL_MAX": "2",
        "WEBHOOK_POLL_SECONDS": "3600",  # the outbox rows stay as written while the test reads them
    }
    db.migrate_notes(sys.executable, env=notes_env, cwd=str(HERE))
    notes_app = _server("notes_app.main:app", notes_env, "notes_app")
    raw_full = None
    try:
        client = Client(notes_app.base)
        notes_api.sign_up(client)
        token = notes_api.log_in(client).access_token
        table = db.owner_table()
        assert table is not None
        owner_id = db.user_id(table, notes_api.BENCH_USER)
        db.seed_notes(SEEDED, owner_id=owner_id)
        with psycopg.connect(db.dsn(db.NOTES_DB), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO webhook (owner_id, url, events, secret, created_at) VALUES (%s, %s, 3, %s, now())",
                (owner_id, "https://hooks.invalid/parity", "whsec_" + "A" * 43),
            )
        raw_env = base_env | {"DATABASE_URL": db.dsn(db.NOTES_DB), "POOL_SIZE": "2"}
        raw_full = _server("apps.raw_full:app", raw_env, "raw_full")
        yield Apps(Client(notes_app.base, token=token), Client(raw_full.base, token=token), owner_id)
    finally:
        notes_app.stop()
        if raw_full is not None:
            raw_full.stop()


def header(reply: Reply, name: str) -> str | None:
    return next((v for k, v in reply.headers.items() if k.lower() == name.lower()), None)


def assert_same(a: Reply, b: Reply, *names: str) -> None:
    """Same status, same body bytes, same value of each header named."""
    assert (a.status, a.raw) == (b.status, b.raw)
    for name in ("content-type", *names):
        assert header(a, name) == header(b, name), name


def query(sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.dsn(db.NOTES_DB)) as conn:
        return conn.execute(sql, params).fetchall()


def masked(note: dict[str, Any]) -> dict[str, Any]:
    """A written note without what differs between two writes of the same content."""
    return {k: v for k, v in note.items() if k not in ("id", "created_at", "updated_at")}


def traces(note_id: int, version: int) -> dict[str, Any]:
    """What a write of `version` of the note left: its revision, its change number, its outbox events."""
    revision = query(
        "SELECT version, title, body, tags, pinned, archived, created_at = (SELECT updated_at FROM note WHERE id = %s)"
        " FROM note_revision WHERE note_id = %s AND version = %s",
        note_id, note_id, version,
    )  # fmt: skip
    events = query(
        "SELECT type, payload FROM webhook_event WHERE note_id = %s AND payload::json->'data'->'note'->>'version' = %s",
        note_id, str(version),
    )  # fmt: skip
    payloads = []
    for kind, payload in events:
        parsed = json.loads(payload)
        assert parsed["data"]["note"]["id"] == note_id
        payloads.append((kind, parsed["type"], masked(parsed["data"]["note"]), sorted(parsed)))
    return {"revision": revision, "events": payloads}


def change_seq(note_id: int) -> int:
    return int(query("SELECT change_seq FROM note WHERE id = %s", note_id)[0][0])


def counter(owner_id: int) -> int:
    rows = query("SELECT seq FROM change_counter WHERE owner_id = %s", owner_id)
    return int(rows[0][0]) if rows else 0


def test_get_by_id_is_byte_identical(apps: Apps) -> None:
    for note_id in (1, SEEDED // 2, SEEDED):
        notes_app, raw_full = apps.both("GET", f"/notes/{note_id}")
        assert notes_app.status == 200
        assert_same(notes_app, raw_full, "etag")
        assert header(raw_full, "x-request-id")


def test_get_with_the_current_etag_is_304_in_both(apps: Apps) -> None:
    tag = header(apps.notes_app.get("/notes/5"), "etag")
    assert tag is not None
    notes_app, raw_full = apps.both("GET", "/notes/5", headers={"If-None-Match": f"W/{tag}"})
    assert notes_app.status == 304
    assert_same(notes_app, raw_full, "etag")


def test_a_missing_note_is_the_same_404_problem(apps: Apps) -> None:
    notes_app, raw_full = apps.both("GET", f"/notes/{SEEDED + 1000}")
    assert notes_app.status == 404
    assert_same(notes_app, raw_full)


def test_list_pages_and_their_cursors_are_byte_identical(apps: Apps) -> None:
    for limit in (50, 7):
        path, seen = f"/notes?limit={limit}", 0
        while path:  # every page to the last, each by the cursor the one before gave
            notes_app, raw_full = apps.both("GET", path)
            assert notes_app.status == 200
            assert_same(notes_app, raw_full)
            seen += len(notes_app.body["items"])
            cursor = notes_app.body["next_cursor"]
            path = f"/notes?limit={limit}&cursor={cursor}" if cursor else ""
        assert seen >= SEEDED


NEW = {"title": "  Parity  ", "body": "héllo ✓", "tags": ["Zeta", "alpha", "alpha"], "pinned": True}


def test_post_answers_alike_and_leaves_the_same_traces(apps: Apps) -> None:
    before = counter(apps.owner_id)
    notes_app, raw_full = apps.both("POST", "/notes", json_body=NEW)
    assert (notes_app.status, raw_full.status) == (201, 201)
    assert masked(notes_app.body) == masked(raw_full.body)
    assert notes_app.body["created_at"] == notes_app.body["updated_at"]
    assert raw_full.body["created_at"] == raw_full.body["updated_at"]
    for reply in (notes_app, raw_full):
        note_id = reply.body["id"]
        assert header(reply, "etag") == f'"{note_id}-1"'
        assert header(reply, "location") == f"/notes/{note_id}"
        assert header(reply, "content-type") == "application/json"
    a, b = notes_app.body["id"], raw_full.body["id"]
    assert traces(a, 1) == traces(b, 1)
    assert len(traces(b, 1)["revision"]) == 1
    assert len(traces(b, 1)["events"]) == 1
    # One change number each, from the owner's counter, in the order the writes were made.
    assert (change_seq(a), change_seq(b), counter(apps.owner_id)) == (before + 1, before + 2, before + 2)
    # notes_app reads raw_full's note back exactly as raw_full answered it.
    assert apps.notes_app.get(f"/notes/{b}").raw == raw_full.raw


def test_patch_answers_alike_and_leaves_the_same_traces(apps: Apps) -> None:
    a = apps.notes_app.request("POST", "/notes", json_body=NEW).body["id"]
    b = apps.notes_app.request("POST", "/notes", json_body=NEW).body["id"]
    change = {"body": "changed ✓", "tags": ["New"], "archived": True}

    before = counter(apps.owner_id)
    notes_app = apps.notes_app.request("PATCH", f"/notes/{a}", json_body=change, headers={"If-Match": f'"{a}-1"'})
    raw_full = apps.raw_full.request("PATCH", f"/notes/{b}", json_body=change, headers={"If-Match": f'"{b}-1"'})
    assert (notes_app.status, raw_full.status) == (200, 200)
    assert masked(notes_app.body) == masked(raw_full.body)
    assert raw_full.body["version"] == 2
    assert raw_full.body["updated_at"] > raw_full.body["created_at"]
    assert (header(notes_app, "etag"), header(raw_full, "etag")) == (f'"{a}-2"', f'"{b}-2"')
    assert traces(a, 2) == traces(b, 2)
    assert len(traces(b, 2)["revision"]) == 1
    assert len(traces(b, 2)["events"]) == 1
    assert (change_seq(a), change_seq(b), counter(apps.owner_id)) == (before + 1, before + 2, before + 2)
    assert apps.notes_app.get(f"/notes/{b}").raw == raw_full.raw

    # A stale If-Match: 412 with the current tag, and nothing written.
    stale = {"body": "stale"}
    notes_app = apps.notes_app.request("PATCH", f"/notes/{a}", json_body=stale, headers={"If-Match": f'"{a}-1"'})
    raw_full = apps.raw_full.request("PATCH", f"/notes/{b}", json_body=stale, headers={"If-Match": f'"{b}-1"'})
    assert (notes_app.status, raw_full.status) == (412, 412)
    assert notes_app.raw.replace(str(a).encode(), b"ID") == raw_full.raw.replace(str(b).encode(), b"ID")
    assert (header(notes_app, "etag"), header(raw_full, "etag")) == (f'"{a}-2"', f'"{b}-2"')

    # The same values again: a no-op, answered with the note as it is, and nothing recorded.
    notes_app = apps.notes_app.request("PATCH", f"/notes/{a}", json_body=change)
    raw_full = apps.raw_full.request("PATCH", f"/notes/{b}", json_body=change)
    assert (notes_app.status, raw_full.status) == (200, 200)
    assert masked(notes_app.body) == masked(raw_full.body)
    assert raw_full.body["version"] == 2
    assert counter(apps.owner_id) == before + 2
    assert query("SELECT count(*) FROM note_revision WHERE note_id = %s", b) == [(2,)]


def test_patching_a_missing_note_is_the_same_404(apps: Apps) -> None:
    notes_app, raw_full = apps.both("PATCH", f"/notes/{SEEDED + 1000}", json_body={"body": "x"})
    assert notes_app.status == 404
    assert_same(notes_app, raw_full)
