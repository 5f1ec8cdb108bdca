"""No skipped change: many writers race a follower that applies every feed response; it ends exact.

Writers run through the HTTP app concurrently (on PostgreSQL each request has its own pooled connection,
so their transactions interleave and commit in any order); the follower reads small pages all the while.
If a position could be taken by one transaction and committed after a later one (a global sequence, a
timestamp), the follower would move past it and end with a stale or missing note.
"""

import asyncio
import random

import httpx

from tests.conftest import create_note
from tests.sync.support import Follower, server_notes

WRITERS = 8
OPERATIONS_PER_WRITER = 25


async def _writer(client: httpx.AsyncClient, seed: int, shared: list[int]) -> None:
    rng = random.Random(seed)
    for step in range(OPERATIONS_PER_WRITER):
        choice = rng.random()
        if choice < 0.3 or not shared:
            note = await create_note(client, title=f"w{seed} s{step}")
            shared.append(note["id"])
        elif choice < 0.4:
            response = await client.post(
                "/notes/bulk", json={"notes": [{"title": f"b{seed}-{step}-{i}"} for i in range(3)]}
            )
            shared.extend(note["id"] for note in response.json()["items"])
        elif choice < 0.75:
            # Several writers patch the same few notes: their transactions wait on each other's row locks.
            await client.patch(f"/notes/{rng.choice(shared[-6:])}", json={"body": f"w{seed} s{step}"})
        elif choice < 0.85:
            await client.delete(f"/notes/{rng.choice(shared)}")  # to the trash
        elif choice < 0.95:
            await client.post(f"/trash/{rng.choice(shared)}/restore")  # 404 unless it is in the trash
        else:
            await client.delete(f"/trash/{rng.choice(shared)}")  # deleted for good, if in the trash
        await asyncio.sleep(0)


async def test_a_follower_racing_many_writers_ends_with_exactly_the_servers_notes(client: httpx.AsyncClient) -> None:
    shared: list[int] = []
    follower = Follower(client, limit=5)
    writers = asyncio.gather(*(_writer(client, seed, shared) for seed in range(WRITERS)))
    while not writers.done():
        await follower.fetch()
        await asyncio.sleep(0)
    await writers

    await follower.catch_up()

    expected = await server_notes(client)
    assert len(expected) > 20
    assert follower.notes == expected
    assert follower.pages > 10  # it really followed along, not just read everything at the end
