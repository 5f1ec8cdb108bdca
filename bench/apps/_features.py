"""Per-request extras the real service has, hand-written for raw_full: bearer auth with notes_app's own
access tokens (PyJWT HS256, verified once per token and remembered, expiry checked on every use, the
session's liveness proven in each request's SQL), a pure-ASGI request-id middleware, and notes_app's
response shapes (orjson bytes, ETag `"id-version"`, RFC 9457 problems).

Each piece does what notes_app does per request, written directly: this is the floor notes_app is
measured against, so it must do the same work and no more (bench/README.md, "raw_full").
"""

import itertools
import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from typing import Annotated, Any

import jwt
import orjson
from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


# ------------------------------------------------------------------ problems
class Problem(Exception):
    """An RFC 9457 answer, shaped as notes_app's (type, title, status, detail)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}

    def response(self) -> Response:
        body = {"type": "about:blank", "title": HTTPStatus(self.status).phrase, "status": self.status,
                "detail": self.detail}  # fmt: skip
        return Response(orjson.dumps(body), self.status, headers=self.headers, media_type=PROBLEM_JSON)


async def problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return exc.response()


def unauthorized(detail: str) -> Problem:
    return Problem(401, detail, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


# ------------------------------------------------------------------ bearer auth
@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    session_id: int


class Tokens:
    """notes_app's access tokens (claims sub, sid, iat, exp; HS256 under SECRET_KEY). A signature is
    checked once per token (the last 4096 are remembered, as notes_app does); expiry on every use."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._verified = lru_cache(maxsize=4096)(self._verify)

    def caller(self, token: str) -> Caller:
        user_id, session_id, expires_at = self._verified(token)
        if expires_at <= time.time():
            raise unauthorized("the access token has expired")
        return Caller(user_id, session_id)

    def _verify(self, token: str) -> tuple[int, int, float]:
        try:
            claims = jwt.decode(
                token, self.key, algorithms=["HS256"], options={"require": ["exp", "iat", "sub", "sid"]}
            )
        except jwt.PyJWTError:
            raise unauthorized("the access token is not valid") from None
        subject, session_id = claims["sub"], claims["sid"]
        if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()) or type(session_id) is not int:
            raise unauthorized("the access token is not valid")
        return int(subject), session_id, float(claims["exp"])


_bearer = HTTPBearer(auto_error=False)


async def current_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """The token's user and session. That the session is alive is proven by the statement the route
    runs (an EXISTS on user_session), as notes_app does: no query here."""
    if credentials is None:
        raise Problem(401, "send an access token: Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"})
    tokens: Tokens = request.app.state.tokens
    caller = tokens.caller(credentials.credentials)
    await request.app.state.last_used.touch(caller)
    return caller


class LastUsed:
    """user_session.last_used_at, written at most once a minute per session, as notes_app does."""

    def __init__(self) -> None:
        self._written: dict[int, float] = {}
        self.pool: Any = None

    async def touch(self, caller: Caller) -> None:
        now = time.monotonic()
        last = self._written.get(caller.session_id)
        if last is not None and now - last < 60.0:
            return
        if len(self._written) >= 4096:
            self._written.clear()
        self._written[caller.session_id] = now
        await self.pool.execute('UPDATE "user_session" SET "last_used_at" = now() WHERE "id" = $1', caller.session_id)


CurrentCaller = Annotated[Caller, Depends(current_caller)]


# ------------------------------------------------------------------ request id
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_PREFIX = secrets.token_hex(8)
_counter = itertools.count(1)


class RequestIdMiddleware:
    """Pure ASGI: the client's X-Request-ID when it is short and plain, else a new one (a per-process
    prefix and a counter, as notes_app makes them), echoed on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope).get("x-request-id", "")
        request_id = sent if _SANE_REQUEST_ID.fullmatch(sent) else f"{_PREFIX}{next(_counter):016x}"

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)


# ------------------------------------------------------------------ notes as notes_app shows them
def timestamp(value: Any) -> str:
    # asyncpg hands timestamptz back in UTC: isoformat ends in +00:00, which becomes Z. Always six
    # fractional digits, as notes_app writes them (orjson would drop a zero fraction).
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def public_note(row: Any) -> dict[str, Any]:
    """A note row (id, title, body, tags, pinned, archived, version, created_at, updated_at) as JSON."""
    return {
        "id": row[0],
        "title": row[1],
        "body": row[2],
        "tags": row[3],
        "pinned": row[4],
        "archived": row[5],
        "version": row[6],
        "created_at": timestamp(row[7]),
        "updated_at": timestamp(row[8]),
    }


def etag(row: Any) -> str:
    return f'"{row[0]}-{row[6]}"'


def note_response(row: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(public_note(row)), status_code, headers={"ETag": etag(row), **(headers or {})}, media_type=JSON
    )


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def if_none_match_hits(header: str | None, row: Any) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as for GET."""
    if header is None:
        return False
    current = etag(row)
    return any(tag == "*" or tag.removeprefix("W/") == current for tag in _tags(header))


_OUR_TAG = re.compile(r'"([0-9]{1,10})-([0-9]{1,10})"')


def if_match_versions(header: str | None, note_id: int) -> list[int] | None:
    """The versions of note `note_id` an If-Match accepts (strong comparison); None: no condition."""
    if header is None or _tags(header) == ["*"]:
        return None
    versions = []
    for tag in _tags(header):
        if (match := _OUR_TAG.fullmatch(tag)) and int(match[1]) == note_id and 1 <= int(match[2]) < 2**31:
            versions.append(int(match[2]))
    return versions
