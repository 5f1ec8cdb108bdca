"""Helpers for the change feed tests: a follower that applies the feed as a client would."""

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Follower:
    """A client's local copy of its notes, kept by applying every feed response."""

    client: httpx.AsyncClient
    limit: int = 100
    cursor: str | None = None
    notes: dict[int, dict[str, Any]] = field(default_factory=dict)
    pages: int = 0

    async def fetch(self, **params: Any) -> dict[str, Any]:
        query: dict[str, Any] = {"limit": self.limit, **params}
        if self.cursor is not None:
            query["cursor"] = self.cursor
        response = await self.client.get("/notes/changes", params=query)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        ids = [change["note"]["id"] if change["type"] == "upsert" else change["id"] for change in page["changes"]]
        assert len(ids) == len(set(ids)), "a note appeared twice in one response"
        for change in page["changes"]:
            if change["type"] == "upsert":
                self.notes[change["note"]["id"]] = change["note"]
            else:
                self.notes.pop(change["id"], None)
        self.cursor = page["cursor"]
        self.pages += 1
        return page

    async def catch_up(self) -> None:
        while (await self.fetch())["has_more"]:
            pass


async def server_notes(client: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    """Every note of the client's user, archived or not, as GET /notes lists them."""
    notes: dict[int, dict[str, Any]] = {}
    for archived in ("false", "true"):
        cursor = None
        while True:
            params = {"limit": "100", "archived": archived, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/notes", params=params)).json()
            notes.update({note["id"]: note for note in page["items"]})
            if (cursor := page["next_cursor"]) is None:
                break
    return notes
