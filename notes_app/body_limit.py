"""The request body limit, answered as problem+json.

Starlette's RequestBodyLimitMiddleware (FastAPI's `max_body_size`) answers a declared oversize body
with plain text, replacing whatever the app sent; the contract wants problem+json for every error.
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes_app.errors import problem_response


class BodyLimitMiddleware:
    """413 for a body over `max_bytes`: at once when Content-Length says so, without reading it;
    otherwise (chunked, or a lying Content-Length) as soon as the bytes received pass the limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> str:
        return f"the request body is over {self.max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await problem_response(413, self._too_large())(scope, receive, send)
            return

        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the route's body read, so the app's error handlers answer it.
                    raise HTTPException(413, self._too_large())
            return message

        await self.app(scope, receive_within_limit, send)
