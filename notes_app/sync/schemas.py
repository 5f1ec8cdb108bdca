"""Schemas of the change feed and the webhooks: input rules, and the shapes answered (for OpenAPI)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from notes_app.notes.schemas import NotePublic, timestamp
from notes_app.sync.events import ALL_EVENTS, events_of
from notes_app.sync.models import Webhook, WebhookEvent

EventName = Literal["note.created", "note.updated", "note.deleted", "note.restored"]


class Upsert(BaseModel):
    type: Literal["upsert"]
    note: NotePublic  # type: ignore[valid-type]


class Delete(BaseModel):
    type: Literal["delete"]
    id: int


class ChangesPage(BaseModel):
    changes: list[Annotated[Upsert | Delete, Field(discriminator="type")]]
    cursor: str = Field(description="Where the next call starts: keep it, even from an empty answer.")
    has_more: bool = Field(description="More changes are ready: call again at once with `cursor`.")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, description="An http(s) URL without credentials.")
    events: list[EventName] = Field(
        default_factory=lambda: list(ALL_EVENTS),  # type: ignore[arg-type]
        min_length=1,
        max_length=4,
        description="The events to send; default all.",
    )


class WebhookPublic(BaseModel):
    id: int
    url: str
    events: list[EventName]
    created_at: str


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="`whsec_...`: verifies the signatures. Shown only in this answer.")


class WebhookList(BaseModel):
    items: list[WebhookPublic]


class Delivery(BaseModel):
    event_id: str
    type: EventName
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None


def _optional_timestamp(value: datetime | None) -> str | None:
    return None if value is None else timestamp(value)


def public_webhook(webhook: Webhook, *, with_secret: bool = False) -> dict[str, object]:
    body: dict[str, object] = {
        "id": webhook.id,
        "url": webhook.url,
        "events": events_of(webhook.events),
        "created_at": timestamp(webhook.created_at),
    }
    if with_secret:
        body["secret"] = webhook.secret
    return body


def public_delivery(event: WebhookEvent, event_id: str) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": event.type,
        "attempts": event.attempts,
        "last_status": event.last_status,
        "last_error": event.last_error,
        "next_attempt_at": _optional_timestamp(event.next_attempt_at),
        "delivered_at": _optional_timestamp(event.delivered_at),
    }
