"""What the harness needs from notes_app's API beyond the load itself: an account and its token (once
accounts exist), whether `?q=` search is served yet, and real `next_cursor` values for the list load."""

import time
from dataclasses import dataclass
from typing import Any

from harness.client import Client

BENCH_USER = "bench_user"
BENCH_PASSWORD = "bench password, long enough for any rule 0123456789"


class AccountsUnsupported(Exception):
    """POST /users is not served: notes_app from before accounts, which runs without auth."""


def sign_up(client: Client) -> None:
    """Create the bench user; an existing one (409) is fine. 404/405 mean there are no accounts yet."""
    account = {"username": BENCH_USER, "password": BENCH_PASSWORD}
    reply = client.request("POST", "/users", json_body=account, auth=False)
    if reply.status in (404, 405):
        raise AccountsUnsupported
    if reply.status not in (201, 409):
        raise RuntimeError(f"POST /users answered {reply.status}: {reply.body}")


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_in: int


def log_in(client: Client) -> Token:
    """OAuth2 password grant: POST /auth/token with a form, as the contract says."""
    account = {"username": BENCH_USER, "password": BENCH_PASSWORD}
    reply = client.request("POST", "/auth/token", form=account, auth=False)
    if reply.status != 200 or not isinstance(reply.body, dict) or "access_token" not in reply.body:
        raise RuntimeError(f"POST /auth/token answered {reply.status}: {reply.body}")
    if reply.body.get("token_type", "").lower() != "bearer":
        raise RuntimeError(f"POST /auth/token gave a {reply.body.get('token_type')!r} token, not bearer")
    return Token(reply.body["access_token"], int(reply.body.get("expires_in", 0)))


def list_parameters(client: Client) -> set[str]:
    """The query parameters GET /notes declares in the OpenAPI document.

    This, not a probe request, is how the search hook is detected: FastAPI ignores an undeclared `q`
    and answers 200 with an unfiltered page, which would look like working search."""
    document: Any = client.get("/openapi.json", auth=False).body
    operation = document.get("paths", {}).get("/notes", {}).get("get", {})
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


def serves_feed(client: Client) -> bool:
    """Whether notes_app serves the change feed (and so webhooks): its path in the OpenAPI document."""
    document: Any = client.get("/openapi.json", auth=False).body
    return "/notes/changes" in document.get("paths", {})


def collect_feed_cursors(client: Client, *, pages: int, limit: int = 100, max_seconds: float = 60.0) -> list[str]:
    """Walk the change feed from the start, `limit` changes a page, keeping each cursor that has more
    after it: the feed load asks for the page after a random one of them (a full page of 100)."""
    cursors: list[str] = []
    path = f"/notes/changes?limit={limit}"
    deadline = time.monotonic() + max_seconds
    while len(cursors) < pages and time.monotonic() < deadline:
        reply = client.get(path)
        if reply.status != 200 or not isinstance(reply.body, dict):
            raise RuntimeError(f"GET {path} answered {reply.status}: {str(reply.body)[:300]}")
        if not reply.body.get("has_more"):
            break
        cursors.append(reply.body["cursor"])
        path = f"/notes/changes?limit={limit}&cursor={reply.body['cursor']}"
    if not cursors:
        raise RuntimeError("GET /notes/changes had no second page: is the bench user's table seeded?")
    return cursors


def collect_cursors(client: Client, *, pages: int, limit: int = 50, max_seconds: float = 60.0) -> list[str]:
    """Walk the first `pages` pages of GET /notes and keep each `next_cursor`: the list load then asks
    for pages anywhere in that range, with cursors the service really issued."""
    cursors: list[str] = []
    path = f"/notes?limit={limit}"
    deadline = time.monotonic() + max_seconds
    while len(cursors) < pages and time.monotonic() < deadline:
        reply = client.get(path)
        if reply.status != 200 or not isinstance(reply.body, dict):
            raise RuntimeError(f"GET {path} answered {reply.status}: {str(reply.body)[:300]}")
        cursor = reply.body.get("next_cursor")
        if not cursor:
            break
        cursors.append(cursor)
        path = f"/notes?limit={limit}&cursor={cursor}"
    if not cursors:
        raise RuntimeError("GET /notes gave no next_cursor: is the bench user's table seeded?")
    return cursors
