"""Helpers for the account tests: real logins through HTTP, personal access tokens, clients."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from notes_app.config import Settings
from tests.conftest import Account, api_client, sign_up


async def log_in(client: httpx.AsyncClient, account: Account, user_agent: str = "pytest") -> dict[str, Any]:
    """A new session for `account`, through POST /auth/token."""
    response = await client.post(
        "/auth/token",
        data={"username": account.username, "password": account.password},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    grant: dict[str, Any] = response.json()
    return grant


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_token(
    client: httpx.AsyncClient, account: Account, *, scopes: list[str], name: str = "script", **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/users/me/tokens", json={"name": name, "scopes": scopes, **extra}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@asynccontextmanager
async def fresh_account(settings: Settings, username: str) -> AsyncIterator[tuple[Account, httpx.AsyncClient]]:
    """An account of the test's own (its sessions may be ended), and a client of the app without
    credentials: each request names its own."""
    account = await sign_up(settings, username)
    async with api_client(settings) as client:
        yield account, client
