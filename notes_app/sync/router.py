"""HTTP routes of the change feed and the webhooks: parse, call one service function, answer."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from notes_app.deps import JsonBody
from notes_app.errors import problem_responses
from notes_app.notes.pagination import InvalidCursor
from notes_app.sync import feed, webhooks
from notes_app.sync.cursors import PositionSigner
from notes_app.sync.delivery import message_id
from notes_app.sync.notifier import ChangeNotifier
from notes_app.sync.schemas import (
    ChangesPage,
    DeliveryPage,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    public_delivery,
    public_webhook,
)
from notes_app.sync.targets import TargetRefused
from notes_app.users.dependencies import CurrentCaller

router = APIRouter(tags=["sync"])
_JSON = "application/json"
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}}


def _json(body: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type=_JSON)


def _cursor_error(exc: InvalidCursor) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", "cursor"), "msg": str(exc), "type": "cursor_invalid"}])


def _signer(request: Request, listing: str, size: int) -> PositionSigner:
    signing_key: str = request.app.state.token_issuer.key
    return PositionSigner.for_list(signing_key=signing_key, listing=listing, size=size)


@router.get(
    "/notes/changes",
    responses={
        200: {"model": ChangesPage},
        **problem_responses(401, 410, 422, 503),
        429: {**problem_responses(429)[429], "description": "Too many long polls waiting for this user."},
    },
)
async def changes(
    request: Request,
    caller: CurrentCaller,
    cursor: Annotated[
        str | None, Query(max_length=200, description="The last answer's `cursor`; omit to start from the beginning.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Changes per answer.")] = 100,
    wait: Annotated[
        int, Query(ge=0, le=30, description="Seconds to hold the request when nothing changed after the cursor.")
    ] = 0,
) -> Response:
    """What changed in the caller's notes after `cursor`: each note at most once, in its latest state
    (`upsert`), or `delete` once it is in the trash or purged."""
    signer = _signer(request, f"changes\0{caller.id}", 2)
    after = feed.START
    if cursor is not None:
        try:
            seq, note_id = signer.decode(cursor)
        except InvalidCursor as exc:
            raise _cursor_error(exc) from None
        after = (seq, note_id)
    notifier: ChangeNotifier = request.app.state.change_notifier
    page = await feed.follow_changes(owner_id=caller.id, after=after, limit=limit, wait=wait, notifier=notifier)
    return _json({"changes": page.changes, "cursor": signer.encode(page.position), "has_more": page.has_more})


@router.post(
    "/webhooks",
    status_code=201,
    dependencies=[JsonBody],
    responses={201: {"model": WebhookCreated}, **problem_responses(400, 401, 409, 413, 415, 422, 503)},
)
async def create_webhook(request: Request, data: WebhookCreate, caller: CurrentCaller) -> Response:
    """Send the caller's note events to `url`, signed per Standard Webhooks with the `secret` answered
    here (and only here). At most 10 per user."""
    try:
        webhook = await webhooks.create_webhook(
            owner_id=caller.id,
            url=data.url,
            events=list(dict.fromkeys(data.events)),
            allow_private=request.app.state.settings.webhook_allow_private_targets,
        )
    except TargetRefused as refused:
        raise RequestValidationError([{"loc": ("body", "url"), "msg": str(refused), "type": "url_refused"}]) from None
    return _json(public_webhook(webhook, with_secret=True), status_code=201)


@router.get("/webhooks", responses={200: {"model": WebhookList}, **problem_responses(401, 503)})
async def list_webhooks(caller: CurrentCaller) -> Response:
    """The caller's webhooks, without their secrets."""
    return _json({"items": [public_webhook(webhook) for webhook in await webhooks.list_webhooks(owner_id=caller.id)]})


WebhookId = Annotated[int, Path(description="The webhook's id.")]


@router.delete("/webhooks/{webhook_id:id}", status_code=204, responses=problem_responses(401, 404, 422, 503))
async def delete_webhook(webhook_id: WebhookId, caller: CurrentCaller) -> Response:
    """No more deliveries to it, including events not yet delivered."""
    await webhooks.delete_webhook(owner_id=caller.id, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{webhook_id:id}/deliveries",
    responses={200: {"model": DeliveryPage}, **problem_responses(401, 404, 422, 503)},
)
async def list_deliveries(
    request: Request,
    webhook_id: WebhookId,
    caller: CurrentCaller,
    limit: Annotated[int, Query(ge=1, le=100, description="Events per page.")] = 20,
    cursor: Annotated[str | None, Query(max_length=200, description="The previous page's `next_cursor`.")] = None,
) -> Response:
    """The webhook's events, newest first, with how their delivery went."""
    webhook = await webhooks.find_webhook(owner_id=caller.id, webhook_id=webhook_id)
    signer = _signer(request, f"deliveries\0{caller.id}\0{webhook.id}", 1)
    before = None
    if cursor is not None:
        try:
            (before,) = signer.decode(cursor)
        except InvalidCursor as exc:
            raise _cursor_error(exc) from None
    events, next_before = await webhooks.list_deliveries(webhook=webhook, limit=limit, before=before)
    return _json(
        {
            "items": [public_delivery(event, message_id(event.id)) for event in events],
            "next_cursor": signer.encode((next_before,)) if next_before is not None else None,
        }
    )
