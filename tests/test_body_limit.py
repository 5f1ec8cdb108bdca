"""BodyLimitMiddleware on its own, for what a client through a real HTTP server cannot send."""

from starlette.types import Message, Receive, Scope, Send

from notes_app.body_limit import BodyLimitMiddleware


async def test_a_content_length_of_other_digits_is_not_trusted_and_the_body_is_counted() -> None:
    # "²" is a digit to str.isdigit() and int() refuses it: it must neither reach int() (a 500) nor
    # pass for a declared length; the bytes received are counted instead.
    seen: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    body = b"x" * 5
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/notes",
        "headers": [(b"content-length", "²".encode("latin-1"))],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await BodyLimitMiddleware(app, max_bytes=10)(scope, receive, send)

    assert seen == [body]
    assert sent[0]["status"] == 204
