"""The request body limit, answered as problem+json.

Starlette's RequestBodyLimitMiddleware (FastAPI's `max_body_size`) answers a declared oversize body
with plain text, replacing whatever the app sent; the contract wants problem+json for every error.
"""

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes_app.errors import problem_response


def _content_length(scope: Scope) -> bytes:
    # The raw headers, not starlette's Headers: a request without a body (every GET) would cost
    # Headers.get a KeyError. Names are lowercase in ASGI; the first one counts, as with Headers.get.
    for name, value in scope["headers"]:
        if name == b"content-length":
            declared: bytes = value
            return declared
    return b""


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`: at once when Content-Length says so, without reading it;
    otherwise (chunked, or a lying Content-Length) as soon as the bytes received pass the limit.

    `limits_by_path` gives a few exact paths a limit of their own (POST /import takes whole archives).
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, limits_by_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits_by_path = dict(limits_by_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limits_by_path.get(scope["path"], self.max_bytes)
        too_large = f"the request body is over {max_bytes} bytes"
        declared = _content_length(scope)
        # bytes.isdigit is ASCII digits only, so int() never sees anything else.
        if declared.isdigit() and int(declared) > max_bytes:
            await problem_response(413, too_large)(scope, receive, send)
            return

        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Raised inside the route's body read, so the app's error handlers answer it.
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, receive_within_limit, send)
