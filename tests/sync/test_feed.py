"""GET /notes/changes: a follower that applies every response ends with exactly the server's notes."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from notes_app.config import Settings
from notes_app.sync.feed import prune_tombstones
from notes_app.sync.models import NoteTombstone
from tests.conftest import Account, assert_problem, create_note
from tests.sync.conftest import app_client
from tests.sync.support import Follower

FeedPair = tuple[httpx.AsyncClient, FastAPI]


async def waiting(app: FastAPI, count: int) -> None:
    """Until `count` long polls of the app are waiting (each registers before its last query)."""
    async with asyncio.timeout(30):
        # The notifier has no Event for "n are waiting": a bounded wait on its count is ordering, not timing.
        while app.state.change_notifier.waiting != count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_without_a_cursor_every_note_is_an_upsert_archived_ones_too(client: httpx.AsyncClient) -> None:
    plain = await create_note(client, title="plain")
    archived = await create_note(client, title="archived", archived=True)

    page = (await client.get("/notes/changes")).json()

    assert page["changes"] == [{"type": "upsert", "note": plain}, {"type": "upsert", "note": archived}]
    assert page["has_more"] is False
    assert isinstance(page["cursor"], str)


async def test_an_empty_feed_still_answers_a_cursor_that_sees_later_changes(client: httpx.AsyncClient) -> None:
    first = (await client.get("/notes/changes")).json()
    assert first["changes"] == []

    note = await create_note(client)
    later = (await client.get("/notes/changes", params={"cursor": first["cursor"]})).json()

    assert later["changes"] == [{"type": "upsert", "note": note}]
    again = (await client.get("/notes/changes", params={"cursor": later["cursor"]})).json()
    assert again == {"changes": [], "cursor": later["cursor"], "has_more": False}


async def test_a_note_changed_many_times_appears_once_in_its_latest_state(client: httpx.AsyncClient) -> None:
    start = (await client.get("/notes/changes")).json()["cursor"]
    note = await create_note(client)
    other = await create_note(client, title="other")
    for i in range(3):
        await client.patch(f"/notes/{note['id']}", json={"body": f"edit {i}"})
    latest = (await client.get(f"/notes/{note['id']}")).json()

    page = (await client.get("/notes/changes", params={"cursor": start})).json()

    assert latest["version"] == 4
    # In the order of each note's latest change: `note` changed last.
    assert page["changes"] == [{"type": "upsert", "note": other}, {"type": "upsert", "note": latest}]


async def test_a_noop_patch_is_no_change(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    cursor = (await client.get("/notes/changes")).json()["cursor"]

    await client.patch(f"/notes/{note['id']}", json={"title": note["title"]})

    assert (await client.get("/notes/changes", params={"cursor": cursor})).json()["changes"] == []


async def test_a_deleted_note_is_a_delete_and_a_note_created_and_deleted_since_is_one_delete(
    client: httpx.AsyncClient,
) -> None:
    kept = await create_note(client, title="kept")
    doomed = await create_note(client, title="doomed")
    cursor = (await client.get("/notes/changes")).json()["cursor"]
    brief = await create_note(client, title="brief")

    assert (await client.delete(f"/notes/{doomed['id']}")).status_code == 204
    assert (await client.delete(f"/notes/{brief['id']}")).status_code == 204
    page = (await client.get("/notes/changes", params={"cursor": cursor})).json()

    assert page["changes"] == [{"type": "delete", "id": doomed["id"]}, {"type": "delete", "id": brief["id"]}]
    fresh = (await client.get("/notes/changes")).json()["changes"]
    assert {"type": "upsert", "note": kept} in fresh


async def test_small_pages_walk_a_bulk_create_exactly_once(client: httpx.AsyncClient) -> None:
    # A bulk create's notes share one change number: pages split inside it by note id.
    created = (await client.post("/notes/bulk", json={"notes": [{"title": f"n{i}"} for i in range(7)]})).json()
    follower = Follower(client, limit=2)

    await follower.catch_up()

    assert follower.notes == {note["id"]: note for note in created["items"]}
    assert follower.pages == 4


async def test_has_more_says_whether_to_call_again_at_once(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await create_note(client, title=f"n{i}")

    first = (await client.get("/notes/changes", params={"limit": 2})).json()
    second = (await client.get("/notes/changes", params={"limit": 2, "cursor": first["cursor"]})).json()

    assert (len(first["changes"]), first["has_more"]) == (2, True)
    assert (len(second["changes"]), second["has_more"]) == (1, False)


async def test_another_users_changes_never_appear(client: httpx.AsyncClient, bob_client: httpx.AsyncClient) -> None:
    await create_note(bob_client, title="bob's")
    mine = await create_note(client, title="mine")

    assert (await client.get("/notes/changes")).json()["changes"] == [{"type": "upsert", "note": mine}]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1001}, {"wait": -1}, {"wait": 31}, {"wait": 1.5}, {"cursor": "x" * 201}],
)
async def test_out_of_range_parameters_are_422(client: httpx.AsyncClient, params: dict[str, object]) -> None:
    assert_problem(await client.get("/notes/changes", params=params), 422)


async def test_tampered_foreign_and_other_lists_cursors_are_422(
    client: httpx.AsyncClient, bob_client: httpx.AsyncClient
) -> None:
    await create_note(client)
    await create_note(bob_client)
    mine = (await client.get("/notes/changes")).json()["cursor"]
    bobs = (await bob_client.get("/notes/changes")).json()["cursor"]
    listing = (await client.get("/notes", params={"limit": 1})).json()
    await create_note(client)
    listing_cursor = (await client.get("/notes", params={"limit": 1})).json()["next_cursor"]
    payload, signature = mine.split(".")
    tampered = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature

    assert listing["next_cursor"] is None
    for cursor in (bobs, tampered, listing_cursor, "garbage", mine + "."):
        problem = assert_problem(await client.get("/notes/changes", params={"cursor": cursor}), 422)
        assert problem["errors"][0]["loc"] == ["query", "cursor"]


async def test_a_cursor_that_may_have_missed_a_pruned_tombstone_is_410(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await create_note(client)
    before = (await client.get("/notes/changes")).json()["cursor"]
    doomed = await create_note(client)
    await client.delete(f"/notes/{doomed['id']}")
    await client.delete(f"/trash/{doomed['id']}")  # deleted for good: a tombstone
    after = (await client.get("/notes/changes", params={"cursor": before})).json()["cursor"]
    # 100 days ago, beyond TOMBSTONE_RETENTION_DAYS (90).
    await NoteTombstone.filter(note_id=doomed["id"]).update(deleted_at=datetime.now(UTC) - timedelta(days=100))

    assert await prune_tombstones(retention=timedelta(days=90)) == 1

    assert await NoteTombstone.filter(owner_id=alice.id).count() == 0
    assert_problem(await client.get("/notes/changes", params={"cursor": before}), 410)
    assert (await client.get("/notes/changes", params={"cursor": after})).status_code == 200
    assert (await client.get("/notes/changes")).status_code == 200  # starting again always works


async def test_pruning_keeps_tombstones_younger_than_the_retention(client: httpx.AsyncClient) -> None:
    cursor = (await client.get("/notes/changes")).json()["cursor"]
    doomed = await create_note(client)
    await client.delete(f"/notes/{doomed['id']}")
    await client.delete(f"/trash/{doomed['id']}")

    assert await prune_tombstones(retention=timedelta(days=90)) == 0

    page = (await client.get("/notes/changes", params={"cursor": cursor})).json()
    assert page["changes"] == [{"type": "delete", "id": doomed["id"]}]


async def test_a_long_poll_answers_as_soon_as_a_change_commits(feed: FeedPair) -> None:
    client, app = feed
    cursor = (await client.get("/notes/changes")).json()["cursor"]

    poll = asyncio.create_task(client.get("/notes/changes", params={"cursor": cursor, "wait": 30}))
    await waiting(app, 1)
    assert not poll.done()
    note = await create_note(client)
    response = await asyncio.wait_for(poll, 30)

    assert response.json()["changes"] == [{"type": "upsert", "note": note}]
    assert app.state.change_notifier.waiting == 0


async def test_a_long_poll_with_changes_waiting_answers_at_once(feed: FeedPair) -> None:
    client, _ = feed
    note = await create_note(client)

    response = await client.get("/notes/changes", params={"wait": 30})

    assert response.json()["changes"] == [{"type": "upsert", "note": note}]


async def test_a_long_poll_with_nothing_new_answers_empty_when_the_time_is_up(feed: FeedPair) -> None:
    client, _ = feed
    cursor = (await client.get("/notes/changes")).json()["cursor"]

    page = (await client.get("/notes/changes", params={"cursor": cursor, "wait": 1})).json()

    assert page == {"changes": [], "cursor": cursor, "has_more": False}


async def test_another_users_change_does_not_answer_a_long_poll(feed: FeedPair, bob_client: httpx.AsyncClient) -> None:
    client, app = feed
    cursor = (await client.get("/notes/changes")).json()["cursor"]
    poll = asyncio.create_task(client.get("/notes/changes", params={"cursor": cursor, "wait": 30}))
    await waiting(app, 1)

    await create_note(bob_client)
    mine = await create_note(client)

    assert (await asyncio.wait_for(poll, 30)).json()["changes"] == [{"type": "upsert", "note": mine}]


async def test_long_polls_beyond_the_bound_per_user_are_429(settings: Settings, alice: Account) -> None:
    async with app_client(settings, alice, feed_max_waiters_per_user=2) as (client, app):
        cursor = (await client.get("/notes/changes")).json()["cursor"]
        polls = [
            asyncio.create_task(client.get("/notes/changes", params={"cursor": cursor, "wait": 30})) for _ in range(2)
        ]
        await waiting(app, 2)

        refused = await client.get("/notes/changes", params={"cursor": cursor, "wait": 30})

        assert_problem(refused, 429)
        assert refused.headers["Retry-After"] == "1"
        await create_note(client)
        assert all(len(r.json()["changes"]) == 1 for r in await asyncio.wait_for(asyncio.gather(*polls), 30))


async def test_waiting_long_polls_hold_no_database_connection(settings: Settings, alice: Account, bob: Account) -> None:
    # More waiters than the pool has connections (DB_POOL_MAX is 10 in the tests): if each held one, the
    # writes below could not get a connection.
    async with app_client(settings, alice) as (client, app), app_client(settings, bob) as (other, other_app):
        polls = []
        for http in (client, other):
            cursor = (await http.get("/notes/changes")).json()["cursor"]
            polls += [
                asyncio.create_task(http.get("/notes/changes", params={"cursor": cursor, "wait": 30})) for _ in range(6)
            ]
        await waiting(app, 6)
        await waiting(other_app, 6)
        note = await create_note(client)
        await create_note(other)
        answers = await asyncio.wait_for(asyncio.gather(*polls), 30)

    assert [len(a.json()["changes"]) for a in answers] == [1] * 12
    assert answers[0].json()["changes"][0]["note"] == note


async def test_metrics_count_waiting_long_polls(feed: FeedPair) -> None:
    client, app = feed
    cursor = (await client.get("/notes/changes")).json()["cursor"]
    poll = asyncio.create_task(client.get("/notes/changes", params={"cursor": cursor, "wait": 30}))
    await waiting(app, 1)

    text = (await client.get("/metrics")).text

    assert "notes_feed_waiters 1.0" in text
    await create_note(client)
    await asyncio.wait_for(poll, 30)
    assert "notes_feed_waiters 0.0" in (await client.get("/metrics")).text
