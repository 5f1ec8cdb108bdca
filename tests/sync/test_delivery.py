"""Delivering the outbox: signed, retried with the same webhook-id, in order per note, never blocked by a
receiver that is slow, silent, rude or redirecting."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from notes_app.config import Settings
from notes_app.sync.delivery import DeliveryPolicy, deliver_due_events, new_http_client, run_deliveries
from notes_app.sync.models import WebhookAttempt, WebhookEvent
from tests.conftest import Account, create_note
from tests.sync.conftest import app_client
from tests.sync.receiver import Received, Receiver, serving


def policy(**overrides: Any) -> DeliveryPolicy:
    values: dict[str, Any] = {
        "retry_base_seconds": 100.0,
        "max_attempts": 8,
        "allow_private_targets": True,
        # Wide: a bound against a hang, not the subject here; on a busy machine 5 s to connect to the
        # receiver in this event loop has run out.
        "connect_timeout_seconds": 60.0,
        "concurrency": 8,
        "poll_seconds": 0.05,
        **overrides,
    }
    return DeliveryPolicy(**values)


@pytest.fixture
async def hooks(settings: Settings, alice: Account) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, alice, webhook_allow_private_targets=True) as (http, _):
        yield http


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver()) as running:
        yield running


@pytest.fixture
async def sender() -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client(policy()) as client:
        yield client


async def register(hooks: httpx.AsyncClient, url: str, **body: Any) -> dict[str, Any]:
    response = await hooks.post("/webhooks", json={"url": url, **body})
    assert response.status_code == 201, response.text
    webhook: dict[str, Any] = response.json()
    return webhook


def verified(request: Received, secret: str) -> dict[str, Any]:
    """The payload, after the Standard Webhooks library has checked its signature."""
    payload: dict[str, Any] = Verifier(secret).verify(request.body, request.headers)
    return payload


async def make_due(**filters: Any) -> None:
    """Time travel: the events' retries are due now (instead of after WEBHOOK_RETRY_BASE_SECONDS)."""
    await WebhookEvent.filter(next_attempt_at__isnull=False, **filters).update(
        next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)
    )


async def test_a_change_is_delivered_signed_and_recorded(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    webhook = await register(hooks, receiver.url())
    note = await create_note(hooks)

    assert await deliver_due_events(client=sender, policy=policy()) == ["delivered"]

    [request] = receiver.received
    payload = verified(request, webhook["secret"])
    assert payload["type"] == "note.created"
    assert payload["data"] == {"note": note}
    assert payload["timestamp"].endswith("Z")
    assert request.headers["content-type"] == "application/json"
    deliveries = (await hooks.get(f"/webhooks/{webhook['id']}/deliveries")).json()
    [delivery] = deliveries["items"]
    assert delivery["event_id"] == request.headers["webhook-id"]
    assert (delivery["type"], delivery["attempts"], delivery["last_status"]) == ("note.created", 1, 204)
    assert delivery["last_error"] is None
    assert delivery["next_attempt_at"] is None
    assert delivery["delivered_at"].endswith("Z")
    assert deliveries["next_cursor"] is None
    assert await deliver_due_events(client=sender, policy=policy()) == []  # delivered once


async def test_updates_and_deletes_carry_the_note_and_the_id(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    note = await create_note(hooks)
    webhook = await register(hooks, receiver.url(), events=["note.updated", "note.deleted"])
    updated = (await hooks.patch(f"/notes/{note['id']}", json={"pinned": True})).json()
    await hooks.delete(f"/notes/{note['id']}")

    for _ in range(2):  # the delete waits for the update: one per round
        await deliver_due_events(client=sender, policy=policy())

    payloads = [verified(request, webhook["secret"]) for request in receiver.received]
    assert [(p["type"], p["data"]) for p in payloads] == [
        ("note.updated", {"note": updated}),
        ("note.deleted", {"id": note["id"]}),
    ]


async def test_only_subscribed_events_are_sent(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    await register(hooks, receiver.url(), events=["note.deleted"])
    await create_note(hooks)

    assert await deliver_due_events(client=sender, policy=policy()) == []
    assert await WebhookEvent.all().count() == 0


async def test_a_failed_attempt_is_retried_later_with_the_same_webhook_id(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    answers = iter([500, 204])

    async def flaky(_: Received) -> tuple[int, dict[str, str]]:
        return next(answers), {}

    receiver.respond = flaky
    webhook = await register(hooks, receiver.url())
    await create_note(hooks)

    assert await deliver_due_events(client=sender, policy=policy(retry_base_seconds=100)) == ["retrying"]
    [delivery] = (await hooks.get(f"/webhooks/{webhook['id']}/deliveries")).json()["items"]
    assert (delivery["attempts"], delivery["last_status"], delivery["delivered_at"]) == (1, 500, None)
    # WEBHOOK_RETRY_BASE_SECONDS x 2^0 after the attempt, as recorded.
    [first_attempt] = await WebhookAttempt.all()
    due = datetime.fromisoformat(delivery["next_attempt_at"])
    assert due - first_attempt.attempted_at == timedelta(seconds=100)
    assert await deliver_due_events(client=sender, policy=policy()) == []  # not due yet

    await make_due()
    assert await deliver_due_events(client=sender, policy=policy()) == ["delivered"]

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert verified(second, webhook["secret"]) == verified(first, webhook["secret"])
    [delivery] = (await hooks.get(f"/webhooks/{webhook['id']}/deliveries")).json()["items"]
    assert (delivery["attempts"], delivery["last_status"], delivery["next_attempt_at"]) == (2, 204, None)
    attempts = await WebhookAttempt.all().order_by("id").values_list("status", flat=True)
    assert attempts == [500, 204]


async def test_backoff_doubles_and_the_event_is_given_up_after_the_last_attempt(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    async def broken(_: Received) -> tuple[int, dict[str, str]]:
        return 503, {}

    receiver.respond = broken
    webhook = await register(hooks, receiver.url())
    await create_note(hooks)
    retrying = policy(retry_base_seconds=100, max_attempts=3)

    delays = []
    for _ in range(2):
        assert await deliver_due_events(client=sender, policy=retrying) == ["retrying"]
        event = await WebhookEvent.get(webhook_id=webhook["id"])
        attempt = await WebhookAttempt.filter(event_id=event.id).order_by("-id").first()
        assert event.next_attempt_at is not None
        assert attempt is not None
        delays.append(event.next_attempt_at - attempt.attempted_at)
        await make_due()
    assert await deliver_due_events(client=sender, policy=retrying) == ["given_up"]

    # 100 s after the first attempt, 200 s after the second: base x 2^(attempt - 1).
    assert delays == [timedelta(seconds=100), timedelta(seconds=200)]
    [delivery] = (await hooks.get(f"/webhooks/{webhook['id']}/deliveries")).json()["items"]
    assert (delivery["attempts"], delivery["next_attempt_at"], delivery["delivered_at"]) == (3, None, None)
    assert delivery["last_error"] == "answered 503"
    assert len(receiver.received) == 3
    assert await deliver_due_events(client=sender, policy=retrying) == []


async def test_a_redirect_is_a_failure_and_never_followed(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    async def redirect(request: Received) -> tuple[int, dict[str, str]]:
        return (307, {"location": receiver.url("/elsewhere")}) if request.path == "/hook" else (204, {})

    receiver.respond = redirect
    webhook = await register(hooks, receiver.url())
    await create_note(hooks)

    assert await deliver_due_events(client=sender, policy=policy()) == ["retrying"]

    assert [request.path for request in receiver.received] == ["/hook"]
    [delivery] = (await hooks.get(f"/webhooks/{webhook['id']}/deliveries")).json()["items"]
    assert (delivery["last_status"], delivery["last_error"]) == (307, "redirect not followed")


async def test_events_of_one_note_reach_an_endpoint_in_order_while_other_notes_go_ahead(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    failed_once: set[str] = set()

    async def fail_first_create(request: Received) -> tuple[int, dict[str, str]]:
        payload = orjson.loads(request.body)
        if payload["type"] == "note.created" and payload["data"]["note"]["title"] == "slow" and not failed_once:
            failed_once.add(request.headers["webhook-id"])
            return 500, {}
        return 204, {}

    receiver.respond = fail_first_create
    webhook = await register(hooks, receiver.url())
    slow = await create_note(hooks, title="slow")
    for i in range(2):
        await hooks.patch(f"/notes/{slow['id']}", json={"body": f"edit {i}"})
    other = await create_note(hooks, title="other")

    # Round 1: the slow note's creation fails; its updates wait behind it; the other note goes.
    assert sorted(await deliver_due_events(client=sender, policy=policy())) == ["delivered", "retrying"]
    # Nothing more of the slow note may go while its first event waits for its retry.
    assert await deliver_due_events(client=sender, policy=policy()) == []
    await make_due()
    for _ in range(3):  # then its events, one round each, in order
        assert await deliver_due_events(client=sender, policy=policy()) == ["delivered"]

    def describe(request: Received) -> tuple[int, str, int]:
        payload = verified(request, webhook["secret"])
        return payload["data"]["note"]["id"], payload["type"], payload["data"]["note"]["version"]

    received = [describe(r) for r in receiver.received]
    # The two notes' first events went at once (in either order); the slow note's, in order, after.
    assert sorted(received[:2]) == sorted([(slow["id"], "note.created", 1), (other["id"], "note.created", 1)])
    assert received[2:] == [
        (slow["id"], "note.created", 1),
        (slow["id"], "note.updated", 2),
        (slow["id"], "note.updated", 3),
    ]


async def test_a_target_that_became_internal_is_refused_at_delivery(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    # Registered while private targets were allowed; delivered by a worker that does not allow them,
    # as when a name's DNS answer changes to an internal address after registration.
    webhook = await register(hooks, receiver.url())
    await create_note(hooks)

    assert await deliver_due_events(client=sender, policy=policy(allow_private_targets=False)) == ["retrying"]

    assert receiver.received == []
    [delivery] = (await hooks.get(f"/webhooks/{webhook['id']}/deliveries")).json()["items"]
    assert delivery["last_status"] is None
    assert delivery["last_error"].startswith("refused:")


async def test_a_deleted_webhook_gets_nothing_more(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    webhook = await register(hooks, receiver.url())
    await create_note(hooks)

    await hooks.delete(f"/webhooks/{webhook['id']}")

    assert await deliver_due_events(client=sender, policy=policy()) == []
    assert receiver.received == []
    assert await WebhookEvent.all().count() == 0


async def test_two_workers_at_once_make_each_attempt_once(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    await register(hooks, receiver.url())
    await hooks.post("/notes/bulk", json={"notes": [{"title": f"n{i}"} for i in range(30)]})

    rounds = await asyncio.gather(*(deliver_due_events(client=sender, policy=policy(), limit=7) for _ in range(6)))

    assert sum(len(results) for results in rounds) == 30
    ids = [request.headers["webhook-id"] for request in receiver.received]
    assert len(ids) == len(set(ids)) == 30


async def test_the_deliveries_list_pages_newest_first(
    hooks: httpx.AsyncClient, bob_client: httpx.AsyncClient, receiver: Receiver
) -> None:
    webhook = await register(hooks, receiver.url())
    for i in range(5):
        await create_note(hooks, title=f"n{i}")
    url = f"/webhooks/{webhook['id']}/deliveries"

    first = (await hooks.get(url, params={"limit": 3})).json()
    second = (await hooks.get(url, params={"limit": 3, "cursor": first["next_cursor"]})).json()

    ids = [item["event_id"] for item in first["items"] + second["items"]]
    assert len(ids) == 5
    assert ids == sorted(ids, key=lambda event_id: -int(event_id.removeprefix("msg_")))
    assert second["next_cursor"] is None
    other = await register(hooks, receiver.url("/other"))
    for cursor in (first["next_cursor"] + "x", "garbage"):
        assert (await hooks.get(url, params={"cursor": cursor})).status_code == 422
    # A cursor of one webhook's list is refused by another's.
    refused = await hooks.get(f"/webhooks/{other['id']}/deliveries", params={"cursor": first["next_cursor"]})
    assert refused.status_code == 422


async def test_a_silent_receiver_blocks_neither_requests_nor_other_endpoints(
    hooks: httpx.AsyncClient, receiver: Receiver
) -> None:
    release = asyncio.Event()

    async def silent_on_slow(request: Received) -> tuple[int, dict[str, str]]:
        if request.path == "/slow":
            await release.wait()  # says nothing until the test lets it
        return 204, {}

    receiver.respond = silent_on_slow
    await register(hooks, receiver.url("/slow"))
    await register(hooks, receiver.url("/fast"))
    stop = asyncio.Event()
    deliveries = asyncio.create_task(run_deliveries(policy=policy(), stop=stop))
    try:
        await create_note(hooks, title="first")
        arrived = await receiver.until(2)  # both endpoints got the first event
        assert {r.path for r in arrived} == {"/slow", "/fast"}
        assert not release.is_set()

        # While /slow still holds its request: the API answers, and /fast gets the next event too.
        second = await create_note(hooks, title="second")
        fast = await receiver.until(2, path="/fast")
        assert orjson.loads(fast[1].body)["data"]["note"] == second
        assert not release.is_set()
    finally:
        release.set()
        stop.set()
        await asyncio.wait_for(deliveries, 30)


async def test_a_receiver_answering_garbage_fails_only_its_own_delivery(
    hooks: httpx.AsyncClient, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"\x00\xffnot http at all\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        rude = await register(hooks, f"http://127.0.0.1:{port}/hook")
        await register(hooks, receiver.url())
        await create_note(hooks)

        assert sorted(await deliver_due_events(client=sender, policy=policy())) == ["delivered", "retrying"]
    finally:
        server.close()
        await server.wait_closed()

    [delivery] = (await hooks.get(f"/webhooks/{rude['id']}/deliveries")).json()["items"]
    assert delivery["last_status"] is None
    assert delivery["last_error"].startswith("request failed")
    assert len(receiver.received) == 1


async def test_metrics_show_pending_events_and_deliveries_by_result(
    settings: Settings, alice: Account, receiver: Receiver, sender: httpx.AsyncClient
) -> None:
    async with app_client(settings, alice, webhook_allow_private_targets=True) as (hooks, app):
        await register(hooks, receiver.url())
        await create_note(hooks)
        await create_note(hooks)
        pending = (await hooks.get("/metrics")).text

        await deliver_due_events(client=sender, policy=policy(), metrics=app.state.sync_metrics)
        after = (await hooks.get("/metrics")).text

    assert "notes_webhook_events_pending 2.0" in pending
    assert "notes_webhook_events_pending 0.0" in after
    assert 'notes_webhook_deliveries_total{result="delivered"} 2.0' in after
