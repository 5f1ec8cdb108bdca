"""Checks run against each app before it is measured: that it serves what the load assumes (the
seeded ids exist, lists have the right shape, POST creates), so a fast run of 404s cannot pass."""

from collections.abc import Callable
from typing import Any

from harness.client import Client

BASELINE_KEYS = {"id", "title", "body", "created_at", "updated_at"}
NOTE_KEYS = {"id", "title", "body", "tags", "pinned", "archived", "version", "created_at", "updated_at"}

Check = Callable[[str, bool], None]


def _checker(fails: list[str]) -> Check:
    def check(name: str, ok: bool) -> None:
        if not ok:
            fails.append(name)

    return check


def _body_of(client: Client, note_id: int) -> Any:
    body = client.get(f"/notes/{note_id}").body
    return body.get("body") if isinstance(body, dict) else None


def smoke_baseline(client: Client, rows: int) -> list[str]:
    """The shared bench's checks (shared/bench/run.py). Failed check names; empty when all pass."""
    fails: list[str] = []
    check = _checker(fails)
    reply = client.get("/notes/1")
    body: Any = reply.body
    check(
        "GET /notes/1 -> 200 note",
        reply.status == 200
        and isinstance(body, dict)
        and set(body) == BASELINE_KEYS
        and body["id"] == 1
        and body["title"] == "note 1"
        and len(body["body"]) == 256,
    )
    check("GET missing -> 404", client.get(f"/notes/{rows + 1_000_000}").status == 404)
    check("GET /notes/abc -> 422", client.get("/notes/abc").status == 422)
    reply = client.get("/notes?limit=50&offset=10")
    ids = list(range(11, 61))
    check(
        "list limit=50 offset=10 -> ids 11..60",
        reply.status == 200 and isinstance(reply.body, list) and [n["id"] for n in reply.body] == ids,
    )
    check("list limit=1000 -> 422", client.get("/notes?limit=1000").status == 422)
    check("list offset=1e30 -> 422", client.get(f"/notes?offset={10**30}").status == 422)
    reply = client.request("POST", "/notes", json_body={"title": "smoke", "body": "héllo ✓"})
    body = reply.body
    created = reply.status == 201 and isinstance(body, dict) and set(body) == BASELINE_KEYS
    check("POST -> 201 note", created and body["id"] > rows and body["body"] == "héllo ✓")
    if created:
        check("GET created note round-trips", _body_of(client, body["id"]) == "héllo ✓")
    check("POST empty title -> 422", client.request("POST", "/notes", json_body={"title": ""}).status == 422)
    reply = client.request("POST", "/notes", json_body={"title": "x" * 201})
    check("POST 201-char title -> 422", reply.status == 422)
    reply = client.request("POST", "/notes", json_body={"body": "x"})
    check("POST missing title -> 422", reply.status == 422)
    reply = client.request("PATCH", f"/notes/{rows}", json_body={"body": "patched ✓"})
    body = reply.body
    check("PATCH -> 200 note", reply.status == 200 and isinstance(body, dict) and body.get("body") == "patched ✓")
    check("PATCH round-trips", _body_of(client, rows) == "patched ✓")
    check("PATCH missing -> 404", client.request("PATCH", f"/notes/{rows + 1_000_000}", json_body={}).status == 404)
    return fails


def smoke_notes_app(
    client: Client,
    *,
    first_id: int,
    last_id: int,
    accounts: bool,
    search: bool,
    history: bool = True,
) -> list[str]:
    """notes_app's contract where the load relies on it (docs/api.md)."""
    fails: list[str] = []
    check = _checker(fails)
    if accounts:
        check("GET /notes without a token -> 401", client.get(f"/notes/{first_id}", auth=False).status == 401)
    for note_id in (first_id, last_id):
        reply = client.get(f"/notes/{note_id}")
        body: Any = reply.body
        check(
            f"GET /notes/{note_id} -> 200 note with ETag",
            reply.status == 200
            and isinstance(body, dict)
            and set(body) >= NOTE_KEYS
            and body["id"] == note_id
            and len(body["body"]) == 256
            and "etag" in {k.lower() for k in reply.headers},
        )
    check("GET missing -> 404", client.get(f"/notes/{last_id + 1_000_000}").status == 404)
    page1 = client.get("/notes?limit=50")
    body = page1.body
    shaped = page1.status == 200 and isinstance(body, dict) and len(body.get("items", [])) == 50
    check("list limit=50 -> 50 items and a next_cursor", shaped and bool(body.get("next_cursor")))
    if shaped and body.get("next_cursor"):
        page2: Any = client.get(f"/notes?limit=50&cursor={body['next_cursor']}").body
        ids1 = [n["id"] for n in body["items"]]
        ids2 = [n["id"] for n in page2.get("items", [])] if isinstance(page2, dict) else []
        check(
            "list with that cursor -> the next 50, none repeated",
            len(ids2) == 50 and not set(ids1) & set(ids2),
        )
    check("list limit=1000 -> 422", client.get("/notes?limit=1000").status == 422)
    reply = client.request("POST", "/notes", json_body={"title": "smoke", "body": "héllo ✓"})
    body = reply.body
    created = reply.status == 201 and isinstance(body, dict) and set(body) >= NOTE_KEYS
    check("POST -> 201 note with Location", created and "location" in {k.lower() for k in reply.headers})
    if created:
        check("GET created note round-trips", _body_of(client, body["id"]) == "héllo ✓")
    check("POST empty title -> 422", client.request("POST", "/notes", json_body={"title": ""}).status == 422)
    if search:
        # Every seeded title holds one of the search words (harness/db.py), "garden" in 1 of 16.
        reply = client.get("/notes?limit=50&q=garden")
        body = reply.body
        found = body.get("items", []) if reply.status == 200 and isinstance(body, dict) else []
        check("search ?q=garden -> a page of notes with garden in the title", len(found) > 0)
        check("search results hold the word", all("garden" in n["title"] for n in found))
    reply = client.request("PATCH", f"/notes/{last_id}", json_body={"body": "patched ✓"})
    body = reply.body
    check(
        "PATCH -> 200 note, one version more",
        reply.status == 200 and isinstance(body, dict) and body.get("body") == "patched ✓" and body["version"] >= 2,
    )
    check("PATCH round-trips", _body_of(client, last_id) == "patched ✓")
    if history and isinstance(body, dict) and "version" in body:
        history = client.get(f"/notes/{last_id}/revisions").body
        versions = [r["version"] for r in history.get("items", [])] if isinstance(history, dict) else []
        check("the PATCH's version is first in the note's history", versions[:1] == [body["version"]])
    return fails
