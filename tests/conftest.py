"""One suite, two databases: SQLite in memory by default, PostgreSQL when TEST_DATABASE_URL is set.

On PostgreSQL each run creates its own database and drops it afterwards, so runs never see each
other's rows. Both are brought to the current schema by the Aerich migrations, never generate_schemas.
With TEST_PGBOUNCER=1 as well, the app and the tests reach that database through a real PgBouncer in
transaction mode (tests/pgbouncer.py) with DB_PGBOUNCER=true, as a deployment behind one would;
migrations, and the change feed's LISTEN connection (DATABASE_LISTEN_URL), still go directly to the
server, as they would there.
"""

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from tortoise import Tortoise
from tortoise.context import get_current_context, set_global_context

from notes_app.config import Settings
from notes_app.db import tortoise_config
from notes_app.idempotency.models import IdempotencyKey
from notes_app.main import create_app
from notes_app.migrate import upgrade
from notes_app.notes.models import Note
from notes_app.sync.models import ChangeCounter, NoteTombstone, Webhook
from notes_app.users import passwords
from notes_app.users.models import PersonalAccessToken, User, UserSession
from notes_app.users.schemas import UserCreate
from notes_app.users.service import create_user
from notes_app.users.sessions import start_session
from notes_app.users.tokens import TokenIssuer
from tests.pgbouncer import PgBouncer

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_PGBOUNCER = os.environ.get("TEST_PGBOUNCER", "").lower() in {"1", "true", "yes"}
TEST_SECRET_KEY = "test-signing-key-" + "x" * 48  # 64 bytes and more: long enough for HS512 in tests
ACCOUNT_TOKEN_LIFETIME = timedelta(days=1)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def asyncpg_dsn(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql"))


class PostgresServer:
    """Creates and drops throwaway databases on the server TEST_DATABASE_URL points at."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def create(self, prefix: str = "notes_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        connection = await asyncpg.connect(asyncpg_dsn(self.url))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return with_database(self.url, name)

    async def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        connection = await asyncpg.connect(asyncpg_dsn(self.url))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture(scope="session")
def postgres() -> PostgresServer | None:
    return PostgresServer(TEST_DATABASE_URL) if TEST_DATABASE_URL else None


@pytest.fixture(scope="session")
async def settings(postgres: PostgresServer | None) -> AsyncIterator[Settings]:
    """The migrated test database, with Tortoise initialised on it for the whole session."""
    url = await postgres.create() if postgres else "sqlite://:memory:"
    test_settings = Settings(
        database_url=url, db_pool_max=10, db_acquire_timeout=10, secret_key=SecretStr(TEST_SECRET_KEY)
    )
    bouncer: PgBouncer | None = None
    try:
        await upgrade(tortoise_config(test_settings), test_settings.dialect)
        if TEST_PGBOUNCER:
            if postgres is None:
                pytest.exit("TEST_PGBOUNCER=1 needs TEST_DATABASE_URL: PgBouncer fronts a PostgreSQL server")
            await Tortoise.close_connections()
            bouncer = PgBouncer(url)
            bouncer.start()
            # The feed's LISTEN is session state, which PgBouncer in transaction mode cannot keep: its
            # one connection per app goes to the server directly, as DATABASE_LISTEN_URL does in production.
            test_settings = test_settings.model_copy(
                update={"database_url": bouncer.url(url), "db_pgbouncer": True, "database_listen_url": url}
            )
            await Tortoise.init(config=tortoise_config(test_settings))
        # The tests and the requests they make run in other tasks than this fixture.
        context = get_current_context()
        assert context is not None
        set_global_context(context)
        yield test_settings
        await Tortoise.close_connections()
    finally:
        if bouncer is not None:
            bouncer.close()
        if postgres:
            await postgres.drop(url)


@pytest.fixture
async def new_database(postgres: PostgresServer | None, tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """Makes empty databases of the suite's dialect; each is dropped after the test."""
    created: list[str] = []

    async def make() -> str:
        if postgres is None:
            url = f"sqlite://{tmp_path / f'db{len(created)}.sqlite3'}"
        else:
            url = await postgres.create("notes_migration")
        created.append(url)
        return url

    yield make
    if postgres is not None:
        for url in created:
            await postgres.drop(url)


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    password: str
    token: str
    session_id: int
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_up(settings: Settings, username: str, password: str = "correct horse battery") -> Account:
    """An account made through the service (real Argon2), signed in: a session and its tokens, as
    /auth/token would issue them."""
    user = await create_user(data=UserCreate(username=username, password=password))
    grant = await start_session(
        user_id=user.id, user_agent="tests", lifetime=timedelta(days=settings.refresh_token_days)
    )
    # A lifetime that outlasts any run of the suite: alice's and bob's tokens are minted once per session,
    # and a suite slowed past ACCESS_TOKEN_MINUTES by a busy machine must not turn every later request into
    # a 401. Expiry has tests of its own (tests/users/test_tokens.py).
    issuer = TokenIssuer(key=TEST_SECRET_KEY, lifetime=ACCOUNT_TOKEN_LIFETIME)
    return Account(
        id=user.id,
        username=username,
        password=password,
        token=issuer.issue(user.id, grant.session.id),
        session_id=grant.session.id,
        refresh_token=grant.refresh_token,
    )


@pytest.fixture(scope="session")
async def alice(settings: Settings) -> Account:
    return await sign_up(settings, "alice")


@pytest.fixture(scope="session")
async def bob(settings: Settings) -> Account:
    return await sign_up(settings, "bob")


@pytest.fixture(autouse=True)
async def _empty_tables(alice: Account, bob: Account) -> AsyncIterator[None]:
    yield
    await Note.all().delete()
    await IdempotencyKey.all().delete()
    await NoteTombstone.all().delete()
    await Webhook.all().delete()  # its events and their attempts go with it
    await ChangeCounter.all().delete()
    # The two session accounts stay (Argon2 makes sign-ups slow), signed in with the session their
    # tokens name: a test that ends one of those must sign up an account of its own. Anything a test
    # added goes.
    await User.exclude(id__in=[alice.id, bob.id]).delete()
    await UserSession.exclude(id__in=[alice.session_id, bob.session_id]).delete()
    await PersonalAccessToken.all().delete()
    assert await UserSession.filter(id__in=[alice.session_id, bob.session_id]).count() == 2, (
        "a test ended alice's or bob's session: sign up an account of its own instead"
    )


@pytest.fixture
def dialect(settings: Settings) -> str:
    return settings.dialect


@asynccontextmanager
async def api_client(
    settings: Settings, account: Account | None = None, *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a new app. raise_app_exceptions=False shows what a client gets from an app that
    fails (the 500), instead of raising the failure in the test."""
    # ASGITransport does not run the lifespan: requests use the session's ORM set up above.
    # tests/test_server.py runs the real lifespan under uvicorn.
    transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=raise_app_exceptions)
    headers = account.headers if account else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://notes.test", headers=headers) as http:
        yield http


@pytest.fixture
async def client(settings: Settings, alice: Account) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as alice."""
    async with api_client(settings, alice) as http:
        yield http


@pytest.fixture
async def bob_client(settings: Settings, bob: Account) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings, bob) as http:
        yield http


@pytest.fixture
async def anonymous(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(settings) as http:
        yield http


def note_payload(**overrides: Any) -> dict[str, Any]:
    return {"title": "Groceries", "body": "milk, eggs", "tags": ["home", "todo"], **overrides}


async def create_note(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/notes", json=note_payload(**overrides))
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is RFC 9457 problem+json with this status, and shows nothing of the internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"] == "about:blank"
    assert isinstance(problem["title"], str)
    assert problem["title"]
    lowered = response.text.lower()
    for leak in ("traceback", "select ", "insert ", "update ", "asyncpg", "tortoise", "sqlite"):
        assert leak not in lowered
    return problem


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The stored hash each login verified against (None: the account does not exist)."""
    seen: list[str | None] = []
    original = passwords._verify

    def recording(password: str, password_hash: str | None) -> bool:
        seen.append(password_hash)
        return original(password, password_hash)

    monkeypatch.setattr(passwords, "_verify", recording)
    return seen


class StatementCounter:
    """Counts the SQL statements sent to the database, at the driver (asyncpg or aiosqlite), so that
    nothing the ORM or our compiled queries send can slip past. Transactions' BEGIN/COMMIT count too."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)


_DRIVER_METHODS = {
    "postgres": ("asyncpg.connection", "Connection", ("fetch", "fetchrow", "fetchval", "execute", "executemany")),
    "sqlite": (
        "aiosqlite.core",
        "Connection",
        ("execute", "execute_insert", "execute_fetchall", "executemany", "executescript"),
    ),
}


@pytest.fixture
def statements(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> StatementCounter:
    """Every statement the test's requests send from here on, in `statements.statements`."""
    import importlib

    counter = StatementCounter()
    module_name, class_name, methods = _DRIVER_METHODS[settings.dialect]
    driver_class = getattr(importlib.import_module(module_name), class_name)
    for name in methods:
        original = getattr(driver_class, name)

        def counting(self: Any, query: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            counter.statements.append(query)
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(driver_class, name, counting)
    return counter
