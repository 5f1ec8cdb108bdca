"""Delivering the webhook outbox: claim due events, POST them signed, record every attempt.

- At least once: an event is in the outbox from the commit of its change (recorder.py). A claim sets its
  `next_attempt_at` to the end of a lease; if the process dies mid-attempt the lease runs out and any
  worker claims it again, with the same `webhook-id`.
- Each attempt once, with several workers: claiming is one UPDATE over rows picked `FOR UPDATE SKIP
  LOCKED` (PostgreSQL), so two workers never claim one event; on SQLite writes are serialised anyway.
- Per-note order per webhook: an event is claimable only when no earlier event of the same note for the
  same webhook is still pending (being tried, or waiting to be retried).
- No receiver blocks another: each attempt is its own task, bounded by WEBHOOK_DELIVERY_CONCURRENCY and
  by a 10 s deadline for the whole answer, and no database connection is held while it runs. A receiver
  is never followed anywhere (no redirects) and its body is never read.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook as Signer
from tortoise import connections
from tortoise.transactions import in_transaction

from notes_app.config import Settings
from notes_app.db import DATABASE_UNAVAILABLE
from notes_app.sync.metrics import SyncMetrics
from notes_app.sync.models import Webhook, WebhookAttempt, WebhookEvent
from notes_app.sync.targets import TargetRefused, parse_target, resolve_target

# The contract: a 2xx answer within 10 s is success.
ANSWER_DEADLINE_SECONDS = 10.0
# How long a claim is good for. Longer than any attempt can last (DNS 5 s + the 10 s answer deadline),
# so a live worker's attempt never overlaps another's; a dead worker's claim is taken over after it.
LEASE_SECONDS = 60.0
USER_AGENT = "notes_app-webhooks/1"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    retry_base_seconds: float
    max_attempts: int
    allow_private_targets: bool
    connect_timeout_seconds: float
    concurrency: int
    poll_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "DeliveryPolicy":
        return cls(
            retry_base_seconds=settings.webhook_retry_base_seconds,
            max_attempts=settings.webhook_max_attempts,
            allow_private_targets=settings.webhook_allow_private_targets,
            connect_timeout_seconds=settings.webhook_connect_timeout_seconds,
            concurrency=settings.webhook_delivery_concurrency,
            poll_seconds=settings.webhook_poll_seconds,
        )

    def retry_delay(self, attempt: int) -> timedelta:
        """After the `attempt`-th failed attempt (1-based)."""
        return timedelta(seconds=self.retry_base_seconds * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Claimed:
    event_id: int
    webhook_id: int
    payload: str
    attempts: int  # before this attempt
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def message_id(event_id: int) -> str:
    """The `webhook-id` of an event: the same on every attempt, and the deliveries list's `event_id`."""
    return f"msg_{event_id}"


_PENDING_EARLIER = (
    'NOT EXISTS (SELECT 1 FROM "webhook_event" AS "earlier" WHERE "earlier"."webhook_id" = "due"."webhook_id" '
    'AND "earlier"."note_id" = "due"."note_id" AND "earlier"."id" < "due"."id" '
    'AND "earlier"."next_attempt_at" IS NOT NULL)'
)
# On PostgreSQL the claim returns the webhook's URL and secret too (RETURNING may name a FROM table);
# SQLite's RETURNING names only the updated table, so there the webhooks are a second query.
_CLAIM_POSTGRES = (
    'UPDATE "webhook_event" AS "e" SET "next_attempt_at" = $2 FROM "webhook" AS "w" '
    'WHERE "w"."id" = "e"."webhook_id" AND "e"."id" IN ('
    'SELECT "due"."id" FROM "webhook_event" AS "due" WHERE "due"."next_attempt_at" <= $1 '
    f"AND {_PENDING_EARLIER} "
    'ORDER BY "due"."next_attempt_at", "due"."id" LIMIT $3 FOR UPDATE SKIP LOCKED) '
    'RETURNING "e"."id", "e"."webhook_id", "e"."payload", "e"."attempts", "w"."url", "w"."secret"'
)
_CLAIM_SQLITE = (
    'UPDATE "webhook_event" SET "next_attempt_at" = ? WHERE "id" IN ('
    'SELECT "due"."id" FROM "webhook_event" AS "due" WHERE "due"."next_attempt_at" <= ? '
    f"AND {_PENDING_EARLIER} "
    'ORDER BY "due"."next_attempt_at", "due"."id" LIMIT ?) '
    'RETURNING "id", "webhook_id", "payload", "attempts"'
)


async def claim_due_events(*, limit: int) -> list[Claimed]:
    """Claim up to `limit` due events (one statement: claimed or not, atomically), with their webhooks."""
    now = datetime.now(UTC)
    lease_end = now + timedelta(seconds=LEASE_SECONDS)
    connection = connections.get("default")
    # execute_query_dict: execute_query drops RETURNING rows of an UPDATE on PostgreSQL (recorder.py).
    if connection.capabilities.dialect == "postgres":
        rows = await connection.execute_query_dict(_CLAIM_POSTGRES, [now, lease_end, limit])
    else:
        rows = await connection.execute_query_dict(_CLAIM_SQLITE, [lease_end, now, limit])
    if not rows:
        return []
    if connection.capabilities.dialect != "postgres":
        webhooks = {w.id: w for w in await Webhook.filter(id__in={int(row["webhook_id"]) for row in rows})}
        rows = [
            {**row, "url": webhooks[row["webhook_id"]].url, "secret": webhooks[row["webhook_id"]].secret}
            for row in rows
            if row["webhook_id"] in webhooks  # one deleted since took its events with it
        ]
    return [
        Claimed(
            event_id=int(row["id"]),
            webhook_id=int(row["webhook_id"]),
            payload=str(row["payload"]),
            attempts=int(row["attempts"]),
            url=str(row["url"]),
            secret=str(row["secret"]),
        )
        for row in sorted(rows, key=lambda row: int(row["id"]))
    ]


def signed_headers(*, event_id: int, secret: str, payload: str, now: datetime) -> dict[str, str]:
    msg_id = message_id(event_id)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(secret).sign(msg_id, now, payload),
    }


def _pinned_request(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL rewritten to the checked address, with the original host in `Host` (and as the TLS server
    name, for SNI and certificate checks), so the connection goes where the check said it may."""
    target = parse_target(url)
    host_in_url = f"[{address}]" if ":" in address else address
    netloc = f"{host_in_url}:{target.url.port}" if target.url.port else host_in_url
    pinned = target.url._replace(netloc=netloc).geturl()
    host_header = target.url.netloc.rsplit("@", 1)[-1]
    extensions: dict[str, Any] = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    return pinned, {"host": host_header}, extensions


async def attempt(client: httpx.AsyncClient, event: Claimed, policy: DeliveryPolicy) -> Outcome:
    """One POST of the event. Never raises for anything the receiver or the network does."""
    try:
        addresses = await resolve_target(parse_target(event.url), allow_private=policy.allow_private_targets)
    except TargetRefused as refused:
        return Outcome(status=None, error=f"refused: {refused}"[:200])
    url, host, extensions = _pinned_request(event.url, addresses[0])
    signed = signed_headers(event_id=event.event_id, secret=event.secret, payload=event.payload, now=datetime.now(UTC))
    headers = {**signed, **host}
    try:
        async with asyncio.timeout(ANSWER_DEADLINE_SECONDS):
            request = client.build_request(
                "POST", url, content=event.payload.encode(), headers=headers, extensions=extensions
            )
            # Streamed and closed unread: a receiver's body, garbage or endless, costs nothing.
            response = await client.send(request, stream=True)
            await response.aclose()
    except TimeoutError:
        return Outcome(status=None, error=f"no answer within {ANSWER_DEADLINE_SECONDS:.0f} s")
    except httpx.HTTPError as exc:
        return Outcome(status=None, error=f"request failed: {type(exc).__name__}")
    if 200 <= response.status_code < 300:
        return Outcome(status=response.status_code, error=None)
    if response.is_redirect:
        return Outcome(status=response.status_code, error="redirect not followed")
    return Outcome(status=response.status_code, error=f"answered {response.status_code}")


async def record_outcome(event: Claimed, outcome: Outcome, policy: DeliveryPolicy) -> str:
    """Write the attempt and the event's next state; returns the result for the metrics:
    delivered, retrying, given_up (or gone: the webhook was deleted meanwhile)."""
    now = datetime.now(UTC)
    attempts = event.attempts + 1
    if outcome.delivered:
        result, next_attempt_at, delivered_at = "delivered", None, now
    elif attempts >= policy.max_attempts:
        result, next_attempt_at, delivered_at = "given_up", None, None
    else:
        result, next_attempt_at, delivered_at = "retrying", now + policy.retry_delay(attempts), None
    # Conditional on the attempt count it was claimed with: if a lease ran out and another worker made a
    # later attempt meanwhile, this stale result does not overwrite that one's state.
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        # One statement (atomic by itself): the event's new state, and the attempt only if it matched.
        _, rows = await connection.execute_query(_RECORD_POSTGRES, [
            event.event_id, event.attempts, attempts, next_attempt_at, delivered_at, outcome.status, outcome.error, now
        ])  # fmt: skip
        return result if rows else "gone"
    async with in_transaction() as connection:
        updated = await (
            WebhookEvent.filter(id=event.event_id, attempts=event.attempts)
            .using_db(connection)
            .update(
                attempts=attempts,
                next_attempt_at=next_attempt_at,
                delivered_at=delivered_at,
                last_status=outcome.status,
                last_error=outcome.error,
            )
        )
        if not updated:
            return "gone"
        await WebhookAttempt.create(
            event_id=event.event_id, attempted_at=now, status=outcome.status, error=outcome.error, using_db=connection
        )
    return result


_RECORD_POSTGRES = """
WITH "updated" AS (
    UPDATE "webhook_event" SET "attempts" = $3, "next_attempt_at" = $4, "delivered_at" = $5,
        "last_status" = $6, "last_error" = $7
    WHERE "id" = $1 AND "attempts" = $2
    RETURNING "id"
)
INSERT INTO "webhook_attempt" ("event_id", "attempted_at", "status", "error")
SELECT "id", $8, $6, $7 FROM "updated"
RETURNING "id"
"""


def new_http_client(policy: DeliveryPolicy) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        # trust_env=False: no proxy or netrc from the environment sees (or redirects) the deliveries.
        trust_env=False,
        timeout=httpx.Timeout(ANSWER_DEADLINE_SECONDS, connect=policy.connect_timeout_seconds),
        limits=httpx.Limits(max_connections=policy.concurrency, max_keepalive_connections=policy.concurrency),
    )


async def deliver(
    client: httpx.AsyncClient, event: Claimed, policy: DeliveryPolicy, metrics: SyncMetrics | None
) -> str:
    outcome = await attempt(client, event, policy)
    result = await record_outcome(event, outcome, policy)
    if metrics is not None:
        metrics.deliveries.labels(result).inc()
    return result


async def deliver_due_events(
    *, client: httpx.AsyncClient, policy: DeliveryPolicy, metrics: SyncMetrics | None = None, limit: int = 100
) -> list[str]:
    """One round: claim what is due and deliver it, concurrently; the results in claim order."""
    claimed = await claim_due_events(limit=limit)
    return list(await asyncio.gather(*(deliver(client, event, policy, metrics) for event in claimed)))


async def run_deliveries(*, policy: DeliveryPolicy, stop: asyncio.Event, metrics: SyncMetrics | None = None) -> None:
    """The background task (notes_app/background.py): claims due events while there are free slots and
    delivers each in its own task, until `stop` is set. A slow receiver holds one slot, never the loop.

    Stopping never cuts a database statement short (a query cancelled mid-flight costs its connection,
    closed without a goodbye): the loop ends after its current claim, attempts still waiting on their
    receiver are cancelled (their claims expire and another worker makes them again), and attempts
    already recording their outcome finish."""
    in_flight: set[asyncio.Task[str]] = set()
    recording: set[asyncio.Task[str]] = set()
    woken = asyncio.Event()

    def finished(task: asyncio.Task[str]) -> None:
        in_flight.discard(task)
        recording.discard(task)
        woken.set()
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.warning("webhook delivery failed to record its outcome: %r", exc)

    async def deliver_one(client: httpx.AsyncClient, event: Claimed) -> str:
        outcome = await attempt(client, event, policy)
        task = asyncio.current_task()
        assert task is not None
        recording.add(task)
        result = await record_outcome(event, outcome, policy)
        if metrics is not None:
            metrics.deliveries.labels(result).inc()
        return result

    async def wake_on_stop() -> None:
        await stop.wait()
        woken.set()

    stop_watcher = asyncio.create_task(wake_on_stop())
    async with new_http_client(policy) as client:
        try:
            # Claims wait for a quarter of the slots to be free (or all, when nothing is under way): one
            # claim for several events, rather than one statement per slot as each frees up.
            batch = max(1, policy.concurrency // 4)
            while not stop.is_set():
                free = policy.concurrency - len(in_flight)
                claimed: list[Claimed] = []
                if free >= batch or not in_flight:
                    try:
                        claimed = await claim_due_events(limit=free)
                    except DATABASE_UNAVAILABLE as exc:
                        logger.warning("webhook delivery: database unavailable: %r", exc)
                    except Exception:
                        # A bug must not end deliveries for the life of the process: logged with its
                        # traceback, and the next poll tries again.
                        logger.exception("webhook delivery: claiming due events failed")
                for event in claimed:
                    task = asyncio.create_task(deliver_one(client, event), name=f"webhook-{event.event_id}")
                    in_flight.add(task)
                    task.add_done_callback(finished)
                if claimed and len(claimed) == free:
                    continue  # maybe more due: claim again at once
                # Sleep until the next poll, until an attempt ends (its note's next event may be due), or
                # until stopped.
                woken.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(policy.poll_seconds):
                        await woken.wait()
        finally:
            stop_watcher.cancel()
            for task in in_flight - recording:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)


async def pending_events() -> int:
    """Events not yet delivered or given up, for the metrics."""
    return await WebhookEvent.filter(next_attempt_at__isnull=False).count()
