"""POST/GET/DELETE /webhooks: registration rules, secrets shown once, SSRF refusals."""

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from notes_app.config import Settings
from notes_app.sync.models import ChangeCounter, NoteTombstone, Webhook, WebhookEvent
from tests.conftest import Account, assert_problem, sign_up
from tests.sync.conftest import app_client
from tests.users.accounts import bearer, make_token

PUBLIC_URL = "http://127.0.0.1:9/hook"  # never contacted here: only delivery sends


@pytest.fixture
async def hooks(settings: Settings, alice: Account) -> AsyncIterator[httpx.AsyncClient]:
    """alice's client of an app that allows private targets (the tests' receivers are on 127.0.0.1)."""
    async with app_client(settings, alice, webhook_allow_private_targets=True) as (http, _):
        yield http


async def test_create_answers_the_secret_once_and_the_list_never_shows_it(hooks: httpx.AsyncClient) -> None:
    created = await hooks.post("/webhooks", json={"url": PUBLIC_URL, "events": ["note.deleted", "note.created"]})

    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "url", "events", "secret", "created_at"}
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["note.created", "note.deleted"]
    listed = await hooks.get("/webhooks")
    assert listed.json() == {"items": [{k: v for k, v in body.items() if k != "secret"}]}
    assert body["secret"] not in listed.text
    assert body["secret"].removeprefix("whsec_") not in listed.text


async def test_events_default_to_all_four(hooks: httpx.AsyncClient) -> None:
    created = (await hooks.post("/webhooks", json={"url": PUBLIC_URL})).json()

    assert created["events"] == ["note.created", "note.updated", "note.deleted", "note.restored"]


async def test_the_secret_never_reaches_the_logs(hooks: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        secret = (await hooks.post("/webhooks", json={"url": PUBLIC_URL})).json()["secret"]
        await hooks.get("/webhooks")

    assert caplog.records
    assert all(secret not in record.getMessage() for record in caplog.records)


async def test_the_eleventh_webhook_is_409(hooks: httpx.AsyncClient, alice: Account) -> None:
    for _ in range(10):
        assert (await hooks.post("/webhooks", json={"url": PUBLIC_URL})).status_code == 201

    assert_problem(await hooks.post("/webhooks", json={"url": PUBLIC_URL}), 409)
    assert await Webhook.filter(owner_id=alice.id).count() == 10


async def test_delete_stops_it_and_a_second_delete_is_404(hooks: httpx.AsyncClient) -> None:
    webhook = (await hooks.post("/webhooks", json={"url": PUBLIC_URL})).json()

    assert (await hooks.delete(f"/webhooks/{webhook['id']}")).status_code == 204
    assert_problem(await hooks.delete(f"/webhooks/{webhook['id']}"), 404)
    assert (await hooks.get("/webhooks")).json() == {"items": []}


async def test_another_users_webhook_is_404_everywhere(hooks: httpx.AsyncClient, bob_client: httpx.AsyncClient) -> None:
    webhook = (await hooks.post("/webhooks", json={"url": PUBLIC_URL})).json()

    assert_problem(await bob_client.delete(f"/webhooks/{webhook['id']}"), 404)
    assert_problem(await bob_client.get(f"/webhooks/{webhook['id']}/deliveries"), 404)
    assert (await bob_client.get("/webhooks")).json() == {"items": []}
    assert await Webhook.filter(id=webhook["id"]).exists()


@pytest.mark.parametrize("webhook_id", [0, -1, 2**31, 2**63])
async def test_ids_that_cannot_exist_are_404(client: httpx.AsyncClient, webhook_id: int) -> None:
    assert_problem(await client.delete(f"/webhooks/{webhook_id}"), 404)
    assert_problem(await client.get(f"/webhooks/{webhook_id}/deliveries"), 404)


@pytest.mark.parametrize(
    "body",
    [
        {"url": PUBLIC_URL, "events": ["note.archived"]},
        {"url": PUBLIC_URL, "events": []},
        {"url": PUBLIC_URL, "events": "note.created"},
        {"url": PUBLIC_URL, "secret": "whsec_mine"},
        {"url": ""},
        {"url": "http://example.com/" + "a" * 2048},
        {},
    ],
)
async def test_bad_bodies_are_422_and_write_nothing(hooks: httpx.AsyncClient, body: object) -> None:
    assert_problem(await hooks.post("/webhooks", json=body), 422)
    assert await Webhook.all().count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "example.com/hook",
        "http:///hook",
        "http://user:pass@example.com/hook",
        "http://token@example.com/hook",
        "http://example.com:99999/hook",
        "http://example.com/hook#fragment",
        "http://no-such-host.invalid/hook",
    ],
)
async def test_urls_that_are_not_plain_resolvable_http_are_422(hooks: httpx.AsyncClient, url: str) -> None:
    problem = assert_problem(await hooks.post("/webhooks", json={"url": url}), 422)

    assert problem["errors"][0]["loc"] == ["body", "url"]
    assert await Webhook.all().count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1.2.3:8080/hook",
        "http://localhost/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
        "http://100.64.0.1/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0/hook",
        "http://240.0.0.1/hook",
        "https://255.255.255.255/hook",
    ],
)
async def test_internal_targets_are_refused_unless_allowed(client: httpx.AsyncClient, url: str) -> None:
    # `client` is an app with WEBHOOK_ALLOW_PRIVATE_TARGETS off, the default.
    problem = assert_problem(await client.post("/webhooks", json={"url": url}), 422)

    assert problem["errors"][0]["loc"] == ["body", "url"]
    assert "internal" in problem["errors"][0]["msg"]
    assert url.split("/")[2] not in problem["detail"]
    assert await Webhook.all().count() == 0


async def test_webhooks_need_a_token(anonymous: httpx.AsyncClient) -> None:
    assert_problem(await anonymous.get("/webhooks"), 401)
    assert_problem(await anonymous.post("/webhooks", json={"url": PUBLIC_URL}), 401)


async def test_a_read_only_token_reads_the_feed_and_webhooks_but_cannot_change_webhooks(
    hooks: httpx.AsyncClient, alice: Account, anonymous: httpx.AsyncClient
) -> None:
    webhook = (await hooks.post("/webhooks", json={"url": PUBLIC_URL})).json()
    headers = bearer((await make_token(hooks, alice, scopes=["notes:read"]))["token"])

    assert (await anonymous.get("/notes/changes", headers=headers)).status_code == 200
    assert (await anonymous.get("/webhooks", headers=headers)).status_code == 200
    assert (await anonymous.get(f"/webhooks/{webhook['id']}/deliveries", headers=headers)).status_code == 200
    for method, path in (("POST", "/webhooks"), ("DELETE", f"/webhooks/{webhook['id']}")):
        response = await anonymous.request(method, path, json={"url": PUBLIC_URL}, headers=headers)
        assert_problem(response, 403)
    assert await Webhook.filter(owner_id=alice.id).count() == 1


async def test_deleting_the_account_deletes_its_webhooks_events_counter_and_tombstones(settings: Settings) -> None:
    account = await sign_up(settings, "erin")
    async with app_client(settings, account, webhook_allow_private_targets=True) as (client, _):
        assert (await client.post("/webhooks", json={"url": PUBLIC_URL})).status_code == 201
        note = (await client.post("/notes", json={"title": "gone soon"})).json()
        await client.delete(f"/notes/{note['id']}")
        await client.delete(f"/trash/{note['id']}")
        assert await WebhookEvent.filter(webhook__owner_id=account.id).exists()
        assert await NoteTombstone.filter(owner_id=account.id).exists()

        response = await client.request("DELETE", "/users/me", json={"password": account.password})

    assert response.status_code == 204
    for model in (Webhook, NoteTombstone, ChangeCounter):
        assert not await model.filter(owner_id=account.id).exists(), model.__name__
    assert not await WebhookEvent.filter(webhook__owner_id=account.id).exists()
