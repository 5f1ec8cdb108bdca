"""Webhooks: register, list, delete, and the list of their deliveries. Free of HTTP."""

import base64
import secrets
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.sync.events import events_mask
from notes_app.sync.models import Webhook, WebhookEvent
from notes_app.sync.targets import parse_target, resolve_target
from notes_app.users.service import account_gone, ensure_account_exists

MAX_WEBHOOKS_PER_USER = 10
MAX_WEBHOOK_ID = 2**31 - 1


class WebhookNotFound(ProblemError):
    status = 404

    def __init__(self, webhook_id: int) -> None:
        super().__init__(f"webhook {webhook_id} does not exist")


class TooManyWebhooks(ProblemError):
    status = 409

    def __init__(self) -> None:
        super().__init__(f"at most {MAX_WEBHOOKS_PER_USER} webhooks per user: delete one first")


def new_secret() -> str:
    # Standard Webhooks secrets: `whsec_` and the base64 of 24 to 64 random bytes.
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


async def create_webhook(*, owner_id: int, url: str, events: list[str], allow_private: bool) -> Webhook:
    """Raises TargetRefused for a URL webhooks may not be sent to (checked before anything is written)."""
    await resolve_target(parse_target(url), allow_private=allow_private)
    async with in_transaction() as connection:
        # The owner's row, locked against other creates (FOR NO KEY UPDATE: not against note writes,
        # whose foreign keys take KEY SHARE), so two concurrent creates cannot both be the tenth.
        if connection.capabilities.dialect == "postgres":
            _, rows = await connection.execute_query(
                'SELECT 1 FROM "user" WHERE "id" = $1 FOR NO KEY UPDATE', [owner_id]
            )
            if not rows:
                raise account_gone()
        if await Webhook.filter(owner_id=owner_id).using_db(connection).count() >= MAX_WEBHOOKS_PER_USER:
            await ensure_account_exists(owner_id)
            raise TooManyWebhooks()
        try:
            return await Webhook.create(
                owner_id=owner_id,
                url=url,
                events=events_mask(events),
                secret=new_secret(),
                created_at=datetime.now(UTC),
                using_db=connection,
            )
        except IntegrityError:  # the owner's foreign key: the account was deleted meanwhile
            raise account_gone() from None


async def list_webhooks(*, owner_id: int) -> list[Webhook]:
    webhooks = await Webhook.filter(owner_id=owner_id).order_by("id")
    if not webhooks:
        await ensure_account_exists(owner_id)
    return list(webhooks)


async def find_webhook(*, owner_id: int, webhook_id: int) -> Webhook:
    webhook = None
    if 1 <= webhook_id <= MAX_WEBHOOK_ID:
        webhook = await Webhook.get_or_none(id=webhook_id, owner_id=owner_id)
    if webhook is None:
        await ensure_account_exists(owner_id)
        raise WebhookNotFound(webhook_id)
    return webhook


async def delete_webhook(*, owner_id: int, webhook_id: int) -> None:
    """Its undelivered events go with it (ON DELETE CASCADE): an attempt under way finds nothing to
    record, and no further attempt is made."""
    webhook = await find_webhook(owner_id=owner_id, webhook_id=webhook_id)
    if not await Webhook.filter(id=webhook.id, owner_id=owner_id).delete():
        raise WebhookNotFound(webhook_id)


async def list_deliveries(*, webhook: Webhook, limit: int, before: int | None) -> tuple[list[WebhookEvent], int | None]:
    """A page of the webhook's events, newest first, starting before event id `before`; and where the
    next page starts, if there is one."""
    query = WebhookEvent.filter(webhook_id=webhook.id)
    if before is not None:
        query = query.filter(id__lt=before)
    events = list(await query.order_by("-id").limit(limit + 1))
    if len(events) <= limit:
        return events, None
    events = events[:limit]
    return events, events[-1].id
