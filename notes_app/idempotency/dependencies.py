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
from notes_app.idempotency.service import Answer, KeyInUse, KeyReused, KeyUse, run_once
from notes_app.users.credentials import Caller, ensure_alive

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
    caller: Caller,
    key: str | None,
    fingerprint: str,
    write: Callable[[BaseDBAsyncClient | None], Awaitable[Response]],
) -> Response:
    """The response of `write` (run in the transaction the key is recorded in), once per key: a
    request with a key already answered gets that answer again. The endpoint is the route's method and
    path template, so a key is scoped to the caller and the endpoint.

    Every answer that `write` did not make (a replay, a 409, a 422) is given only once the caller's
    credential is proven alive: `write` is where a TokenCaller route proves it (in its own statement),
    and it does not run then, so an ended session or a revoked token would otherwise be handed the
    kept answer, or learn whether it used a key. One lookup, on those answers only."""
    if key is None:
        return await write(None)
    settings: Settings = request.app.state.settings
    use = KeyUse(
        owner_id=caller.id,
        endpoint=f"{request.method} {request.scope['route'].path}",
        key=key,
        fingerprint=fingerprint,
        lifetime=timedelta(hours=settings.idempotency_key_hours),
    )

    async def work(connection: BaseDBAsyncClient | None) -> Answer:
        return _answer(await write(connection))

    try:
        answer, replayed = await run_once(use=use, dialect=settings.dialect, work=work)
    except (KeyInUse, KeyReused):
        await ensure_alive(caller)
        raise
    if replayed:
        await ensure_alive(caller)
    return _response(answer, replayed=replayed)
