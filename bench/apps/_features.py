"""Per-request extras the real service has, for raw_full: JWT bearer auth (PyJWT HS256) as an async
FastAPI dependency, a pure-ASGI request-id middleware, and an ETag'd orjson response (blake2b of the
body, 304 on If-None-Match).

Copied from shared/bench/apps/_features.py (2026-11-25), keeping only what raw_full uses; the
threadpool, cached-token and BaseHTTPMiddleware variants were dropped. Behaviour is unchanged.
"""

import hashlib
import os
import time
import uuid
from contextvars import ContextVar
from typing import Annotated, Any

import jwt
import orjson
from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JWT_SECRET = os.environ.get("JWT_SECRET", "bench-secret-0123456789abcdef0123456789abcdef")
JSON = "application/json"
OPTS = orjson.OPT_UTC_Z
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# ------------------------------------------------------------------ JWT
bearer = HTTPBearer(auto_error=False)
UNAUTH = {"WWW-Authenticate": "Bearer"}


async def current_user(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    if creds is None:
        raise HTTPException(401, "Not authenticated", headers=UNAUTH)
    try:
        claims = jwt.decode(
            creds.credentials,
            JWT_SECRET,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWTError:
        raise HTTPException(401, "Invalid token", headers=UNAUTH) from None
    return str(claims["sub"])


def make_token(sub: str = "42", exp: int | None = None) -> str:
    """A token current_user accepts (valid for a day unless `exp` says otherwise)."""
    exp = exp if exp is not None else int(time.time()) + 86_400
    return jwt.encode({"sub": sub, "exp": exp}, JWT_SECRET, algorithm="HS256")


# ------------------------------------------------------------------ request id
class RequestIdMiddleware:
    """Pure ASGI: take X-Request-ID (or make one), expose it in a contextvar, echo it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for k, v in scope["headers"]:
            if k == b"x-request-id":
                rid = v.decode("latin-1")[:64]
                break
        if rid is None:
            rid = uuid.uuid4().hex
        raw = rid.encode("latin-1")
        token = request_id_var.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", raw)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


# ------------------------------------------------------------------ ETag
def json_response(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data, option=OPTS), status_code, media_type=JSON)


def etag_response(request: Request, data: Any, status_code: int = 200) -> Response:
    body = orjson.dumps(data, option=OPTS)
    etag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
    inm = request.headers.get("if-none-match")
    if inm and (inm.strip() == "*" or etag in (t.strip().removeprefix("W/") for t in inm.split(","))):
        return Response(status_code=304, headers={"etag": etag})
    return Response(body, status_code, media_type=JSON, headers={"etag": etag})
