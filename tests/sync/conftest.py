from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from notes_app.config import Settings
from notes_app.main import create_app
from tests.conftest import Account


@asynccontextmanager
async def app_client(
    settings: Settings, account: Account, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """A client of a new app with some settings changed; the app's change listener is closed after."""
    app = create_app(settings.model_copy(update=overrides))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://notes.test", headers=account.headers
        ) as http:
            yield http, app
    finally:
        await app.state.change_notifier.close()


@pytest.fixture
async def feed(settings: Settings, alice: Account) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """alice's client, and its app (to watch its long polls)."""
    async with app_client(settings, alice) as pair:
        yield pair
