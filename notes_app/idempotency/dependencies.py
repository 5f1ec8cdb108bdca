"""The HTTP side of idempotency keys: the `Idempotency-Key` header, and answers kept and replayed.

An endpoint that honours keys (POST /notes, POST /notes/bulk, POST /import) takes `IdempotencyKeyHeader`,
builds its answer in a function of the transaction to write in, and returns `respond_once(...)`.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Header, Request, Response
from tortoise import BaseDBAsyncClient

from notes_app.config import Settings
from notes_app.idempotency.models import MAX_KEY_LENGTH
from notes_app.idempotency.service import Answer, KeyUse, run_once

# 1..255 characters of visible ASCII (no space, no control characters); anything else is 422. Also
# valid as an ECMA-262 pattern, as every pattern in the document must be.
KEY_PATTERN = r"^[!-~]+$"

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=KEY_PATTERN,
        description=(
            "Makes the request safe to send again: with a key already used for this request, the first "
            "answer is replayed (`Idempotent-Replayed: true`) and nothing is written; with a key used for "
            "another request, 422; while the first request with the key runs, 409."
        ),
    ),
]

# The headers of an answer that are kept with it and replayed.
_KEPT_HEADERS = ("content-type", "location", "etag")

REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the kept answer to an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
KEY_IN_USE_HEADERS = {
    "Retry-After": {"description": "Seconds to wait before sending the request again.", "schema": {"type": "integer"}}
}


def _answer(response: Response) -> Answer:
    headers = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
    return Answer(status=response.status_code, body=bytes(response.body), headers=headers)


def _response(answer: Answer, *, replayed: bool) -> Response:
    headers = dict(answer.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(answer.body, status_code=answer.status, headers=headers)


async def respond_once(
    *,
    request: Request,
    owner_id: int,
    key: str | None,
    fingerprint: str,
    write: Callable[[BaseDBAsyncClient | None], Awaitable[Response]],
) -> Response:
    """The response of `write` (run in the transaction the key is recorded in), once per key: a
    request with a key already answered gets that answer again. The endpoint is the route's method and
    path template, so a key is scoped to the caller and the endpoint."""
    if key is None:
        return await write(None)
    settings: Settings = request.app.state.settings
    use = KeyUse(
        owner_id=owner_id,
        endpoint=f"{request.method} {request.scope['route'].path}",
        key=key,
        fingerprint=fingerprint,
        lifetime=timedelta(hours=settings.idempotency_key_hours),
    )

    async def work(connection: BaseDBAsyncClient | None) -> Answer:
        return _answer(await write(connection))

    answer, replayed = await run_once(use=use, dialect=settings.dialect, work=work)
    return _response(answer, replayed=replayed)
