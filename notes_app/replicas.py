"""Reads from streaming replicas (DATABASE_REPLICA_URLS), writes and fresh reads from the primary.

The one place read routes ask which database to read from is `read_connection()`: a replica chosen for
this request, or None for the default connection (the primary). Every read-only route that may serve
slightly old data calls it (`Note.filter(...).using_db(read_connection())`); everything else, and every
statement in a write's transaction, uses the primary as before. With no replica configured nothing is
installed: `read_connection()` is always None and no request runs any extra statement.

- The replicas' pools are not Tortoise connections (`in_transaction()` without a name would then refuse
  to guess among several): each `ReplicaClient` is made and closed here, and used only through
  `using_db(read_connection())`. Each opens its pool on first use.
- Which requests: GET and HEAD only (`ReplicaRouting`, a pure ASGI middleware), so nothing in a write's
  request reads from a replica.
- Read-your-writes: a successful write answers with a short-lived signed cookie holding the primary's WAL
  insert position after the commit (`pg_current_wal_insert_lsn()`, one statement, only when replicas
  are configured). A read that carries it goes to a replica only once that replica has replayed that far
  (`pg_last_wal_replay_lsn()`), otherwise to the primary. The cookie lives as long as a replica may lag
  (REPLICA_MAX_LAG_SECONDS, plus a check interval): past that, every replica still in use has the write.
- Health and lag: each worker checks its replicas every REPLICA_CHECK_SECONDS, in the background of the
  requests (never in their path). Lag is measured against the primary's WAL position sampled over time,
  so an idle primary does not make a replica look behind. A replica that is down, or lagging past
  REPLICA_MAX_LAG_SECONDS, is skipped until it is back, logged once per change. A replica that fails
  in the middle of a request is retried on the primary by `ReplicaClient`: never a 503 while the primary
  is up.
"""

import asyncio
import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import BaseDBAsyncClient, connections

from notes_app.config import Settings, dialect_of
from notes_app.db import DATABASE_UNAVAILABLE, connection_config
from notes_app.postgres_client import BoundedAcquireClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

COOKIE = "notes_read_after"
REPLICA_ALIAS = "replica_{}"
PRIMARY_ALIAS = "default"

# Requests that may read from a replica. Every other request may write: its success leaves the cookie.
READ_METHODS = frozenset({"GET", "HEAD"})

_read_db: ContextVar[BaseDBAsyncClient | None] = ContextVar("notes_read_db", default=None)


def read_connection() -> BaseDBAsyncClient | None:
    """The connection this request's reads use: a replica, or None for the default one (the primary)."""
    return _read_db.get()


def sets_read_after(method: str, status: int) -> bool:
    """Whether a response to `method` with `status` carries the read-your-writes cookie (with replicas
    configured): the one rule for the middleware below and for the OpenAPI document."""
    return method not in READ_METHODS and status < 400


def parse_lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


class ReplicaClient(BoundedAcquireClient):
    """A replica's pool. A read that fails because the replica is unreachable (connection refused,
    lost, or the pool's acquire timeout) runs again on the primary, and the replica is skipped from
    then on until its next good check."""

    def __init__(self, *, on_failure: Callable[[str, Exception], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_failure = on_failure

    async def _on_primary(self, operation: Callable[[BaseDBAsyncClient], Awaitable[T]], first: Awaitable[T]) -> T:
        try:
            return await first
        except DATABASE_UNAVAILABLE as error:
            self.on_failure(self.connection_name, error)
            return await operation(connections.get(PRIMARY_ALIAS))

    async def execute_query(self, query: str, values: list[Any] | None = None) -> tuple[int, list[dict[Any, Any]]]:
        count, rows = await self._on_primary(
            lambda db: db.execute_query(query, values), super().execute_query(query, values)
        )
        return count, list(rows)

    async def execute_query_dict(self, query: str, values: list[Any] | None = None) -> list[dict[str, Any]]:
        return await self._on_primary(
            lambda db: db.execute_query_dict(query, values), super().execute_query_dict(query, values)
        )

    async def replay_lsn(self) -> int:
        """Where this replica has replayed the primary's WAL to; raises when it cannot be asked."""
        _, rows = await super().execute_query("SELECT pg_last_wal_replay_lsn()::text AS lsn")
        if not rows or rows[0]["lsn"] is None:
            raise ConnectionError(f"{self.connection_name} is not a streaming replica")
        return parse_lsn(rows[0]["lsn"])


@dataclass
class _Replica:
    alias: str
    usable: bool = False  # until the first good check
    reported: bool | None = None  # the verdict last logged: each change is logged once
    replay_lsn: int = 0
    lag: float = 0.0


@dataclass
class ReplicaSet:
    urls: list[str]
    settings: Settings
    max_lag: float
    check_interval: float
    signing_key: bytes
    _replicas: dict[str, _Replica] = field(init=False)
    # (monotonic time, primary WAL insert position) samples, enough to measure lag up to max_lag.
    _samples: deque[tuple[float, int]] = field(init=False, default_factory=deque)
    _checked_at: float = field(init=False, default=float("-inf"))
    _check: asyncio.Task[None] | None = field(init=False, default=None)
    _next: int = field(init=False, default=0)

    _clients: dict[str, ReplicaClient] = field(init=False)

    def __post_init__(self) -> None:
        if self.settings.dialect != "postgres":
            raise ValueError("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL")
        self._replicas, self._clients = {}, {}
        for number, url in enumerate(self.urls):
            if dialect_of(url) != "postgres":
                raise ValueError("DATABASE_REPLICA_URLS: each replica is a postgres:// URL")
            alias = REPLICA_ALIAS.format(number)
            credentials = connection_config(url, self.settings, engine=__name__)["credentials"]
            self._replicas[alias] = _Replica(alias)
            self._clients[alias] = ReplicaClient(on_failure=self._failed, connection_name=alias, **credentials)

    async def close(self) -> None:
        if self._check is not None:
            self._check.cancel()
        for client in self._clients.values():
            await client.close()

    @property
    def cookie_seconds(self) -> int:
        return int(self.max_lag + self.check_interval) + 1

    def _set_usable(self, replica: _Replica, usable: bool, reason: str) -> None:
        replica.usable = usable
        if usable == replica.reported:
            return
        replica.reported = usable
        if usable:
            logger.warning("replica %s is in use", replica.alias)
        else:
            logger.warning("replica %s skipped, reads go to the primary: %s", replica.alias, reason)

    def _failed(self, alias: str, error: Exception) -> None:
        self._set_usable(self._replicas[alias], False, f"unreachable ({error!r})")

    async def primary_lsn(self) -> int:
        _, rows = await connections.get(PRIMARY_ALIAS).execute_query("SELECT pg_current_wal_insert_lsn()::text AS lsn")
        return parse_lsn(rows[0]["lsn"])

    async def check(self) -> None:
        """Sample the primary's position, then ask each replica how far it has replayed."""
        now = time.monotonic()
        try:
            self._samples.append((now, await self.primary_lsn()))
        except DATABASE_UNAVAILABLE:
            return  # without the primary there is nothing to compare with: keep the last verdicts
        while len(self._samples) > 1 and self._samples[1][0] < now - self.max_lag - self.check_interval:
            self._samples.popleft()
        for replica in self._replicas.values():
            client = self._clients[replica.alias]
            try:
                async with asyncio.timeout(max(self.check_interval, 1.0)):
                    replica.replay_lsn = await client.replay_lsn()
            except DATABASE_UNAVAILABLE as error:
                self._set_usable(replica, False, f"unreachable ({error!r})")
                continue
            replica.lag = self._lag(replica.replay_lsn, now)
            if replica.lag > self.max_lag:
                self._set_usable(replica, False, f"{replica.lag:.1f} s behind (REPLICA_MAX_LAG_SECONDS={self.max_lag})")
            else:
                self._set_usable(replica, True, "")

    def _lag(self, replay_lsn: int, now: float) -> float:
        # Behind by the age of the oldest primary position it has not replayed yet; caught up when it
        # has replayed the latest. An idle primary's position does not move, so it shows no lag.
        for sampled_at, lsn in self._samples:
            if lsn > replay_lsn:
                return now - sampled_at
        return 0.0

    def refresh_soon(self) -> None:
        """Start a check in the background when the last one is older than the check interval."""
        if self._check is None and time.monotonic() - self._checked_at >= self.check_interval:
            self._checked_at = time.monotonic()
            self._check = asyncio.create_task(self._checked())

    async def _checked(self) -> None:
        try:
            await self.check()
        except Exception:
            logger.exception("checking the replicas failed")
        finally:
            self._check = None

    def choose(self, read_after: int | None) -> BaseDBAsyncClient | None:
        """A usable replica (round robin) that has replayed `read_after`; None: the primary."""
        candidates = [
            replica
            for replica in self._replicas.values()
            if replica.usable and (read_after is None or replica.replay_lsn >= read_after)
        ]
        if not candidates:
            return None
        self._next += 1
        return self._clients[candidates[self._next % len(candidates)].alias]

    # The cookie: "<lsn>.<expires>.<HMAC>", so a client can neither forge a position nor keep one forever.
    def _signature(self, payload: str) -> str:
        return hmac.new(self.signing_key, payload.encode(), hashlib.sha256).hexdigest()[:32]

    def cookie_value(self, lsn: int) -> str:
        payload = f"{lsn:x}.{int(time.time()) + self.cookie_seconds}"
        return f"{payload}.{self._signature(payload)}"

    def read_after(self, value: str) -> int | None:
        lsn, _, rest = value.partition(".")
        expires, _, signature = rest.partition(".")
        if not hmac.compare_digest(signature, self._signature(f"{lsn}.{expires}")):
            return None
        try:
            return int(lsn, 16) if int(expires) >= time.time() else None
        except ValueError:
            return None


def _cookie(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"cookie" and COOKIE.encode() in value:
            morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
            return morsel.value if morsel else None
    return None


class ReplicaRouting:
    """GET and HEAD read from a replica that is fresh enough for the caller; a successful write leaves
    the caller the position its reads must wait for."""

    def __init__(self, app: ASGIApp, *, replicas: ReplicaSet) -> None:
        self.app = app
        self.replicas = replicas

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.replicas.refresh_soon()
        method = scope["method"]
        if method in READ_METHODS:
            value = _cookie(scope)
            read_after = self.replicas.read_after(value) if value else None
            token = _read_db.set(self.replicas.choose(read_after))
            try:
                await self.app(scope, receive, send)
            finally:
                _read_db.reset(token)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start" and sets_read_after(method, message["status"]):
                # The write has committed by now (routes answer after their transaction ends).
                try:
                    lsn = await self.replicas.primary_lsn()
                except DATABASE_UNAVAILABLE:
                    lsn = None
                if lsn is not None:
                    cookie = (
                        f"{COOKIE}={self.replicas.cookie_value(lsn)}; Max-Age={self.replicas.cookie_seconds}; "
                        "Path=/; HttpOnly; SameSite=Lax"
                    )
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        await self.app(scope, receive, stamped)
