"""Idempotency keys: a request sent again with the same `Idempotency-Key` gets the first one's answer
instead of doing its work twice. Free of HTTP: an answer here is a status, headers and body bytes.

How one key is used once, whatever races:
- The request that uses a key first inserts the key's row at the start of its transaction, does its
  work, and completes the row with its answer before commit. The row and the work commit together,
  or neither does (so a request that fails leaves the key free).
- The unique constraint on (owner, endpoint, key) decides between racing requests; nothing checks
  first. A request whose insert conflicts reads the committed row: the same fingerprint gets the kept
  answer, another fingerprint a 422.
- A request that comes while the first is still running answers 409 at once instead of waiting for
  it: on PostgreSQL the first holds a transaction-scoped advisory lock on the key
  (`pg_try_advisory_xact_lock`, released by its commit or rollback: no session state on pooled
  connections), on SQLite (one process) a set of the keys in flight says so.
"""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from tortoise import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from notes_app.errors import ProblemError
from notes_app.idempotency.models import IdempotencyKey
from notes_app.users.service import ensure_account_exists

# Seconds a client should wait before sending a request again while the first with its key runs.
RETRY_AFTER_SECONDS = 1


class KeyInUse(ProblemError):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still being processed: send it again later",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


class KeyReused(ProblemError):
    status = 422

    def __init__(self) -> None:
        message = "this Idempotency-Key was used for another request: use a new key for a new request"
        errors = [{"loc": ["header", "Idempotency-Key"], "msg": message, "type": "idempotency_key_reused"}]
        super().__init__(message, errors=errors)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> bool:
        """Only successes are kept: after an error the client may correct the request and use the key again."""
        return 200 <= self.status < 300


@dataclass(frozen=True)
class KeyUse:
    """A request's use of a key: whose, on which endpoint, for which request content."""

    owner_id: int
    endpoint: str
    key: str
    fingerprint: str
    lifetime: timedelta


def fingerprint(content: Any) -> str:
    """SHA-256 of a request's content as canonical JSON (sorted keys): two requests that mean the same
    are the same request, whatever their white space or key order."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def fingerprint_bytes(body: bytes) -> str:
    """SHA-256 of a body that is not JSON (POST /import's archive): the same bytes are the same request."""
    return hashlib.sha256(body).hexdigest()


# The keys in flight in this process, for SQLite, where transactions run one at a time: a second
# request would otherwise wait for the first's transaction instead of being told to come back.
_in_flight: set[tuple[int, str, str]] = set()


class _NotKept(Exception):
    """Rolls the key's row back with an answer that is not a success."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


async def _lock_key(connection: BaseDBAsyncClient, use: KeyUse) -> None:
    # A newline cannot occur in a key (visible ASCII) or an endpoint; PostgreSQL text cannot hold NUL.
    name = f"idempotency\n{use.owner_id}\n{use.endpoint}\n{use.key}"
    _, rows = await connection.execute_query("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", [name])
    if not rows[0][0]:
        raise KeyInUse


async def _first_use(
    use: KeyUse, work: Callable[[BaseDBAsyncClient], Awaitable[Answer]], *, dialect: str
) -> Answer | None:
    """Do the work under the key, recording its answer; None when the key already has a row."""
    now = datetime.now(UTC)
    try:
        async with in_transaction() as connection:
            if dialect == "postgres":
                await _lock_key(connection, use)
            record = await IdempotencyKey.create(
                owner_id=use.owner_id,
                endpoint=use.endpoint,
                key=use.key,
                fingerprint=use.fingerprint,
                created_at=now,
                expires_at=now + use.lifetime,
                using_db=connection,
            )
            answer = await work(connection)
            if not answer.kept:
                raise _NotKept(answer)
            await (
                IdempotencyKey.filter(id=record.id)
                .using_db(connection)
                .update(status=answer.status, headers=answer.headers, body=answer.body)
            )
            return answer
    except _NotKept as not_kept:
        return not_kept.answer
    except IntegrityError:
        # The key's unique constraint (a row exists: see the caller), or the owner's foreign key.
        return None


async def run_once(
    *, use: KeyUse | None, dialect: str, work: Callable[[BaseDBAsyncClient | None], Awaitable[Answer]]
) -> tuple[Answer, bool]:
    """Do `work` once per key: (its answer, False) the first time, (the kept answer, True) after.
    `work` gets the transaction the key's record commits in, and must write only through it; None
    when the request has no key."""
    if use is None:
        return await work(None), False
    flight = (use.owner_id, use.endpoint, use.key)
    if dialect != "postgres":
        if flight in _in_flight:
            raise KeyInUse
        _in_flight.add(flight)
    try:
        for _ in range(2):  # a second time only after deleting an expired row of the key
            answer = await _first_use(use, work, dialect=dialect)
            if answer is not None:
                return answer, False
            existing = await IdempotencyKey.get_or_none(owner_id=use.owner_id, endpoint=use.endpoint, key=use.key)
            if existing is None:
                await ensure_account_exists(use.owner_id)  # the conflict was the owner's foreign key
                raise KeyInUse  # the row was purged in between: trying again will work
            if existing.expires_at <= datetime.now(UTC):
                # Expired but not purged yet: forgotten, as if it were gone. Deleted only if it is still
                # expired, so a racing request that just renewed it keeps its row.
                await IdempotencyKey.filter(id=existing.id, expires_at__lte=datetime.now(UTC)).delete()
                continue
            if existing.fingerprint != use.fingerprint:
                raise KeyReused
            if existing.status is None or existing.body is None:
                raise KeyInUse  # not possible while the row commits complete; said rather than assumed
            return Answer(status=existing.status, body=existing.body, headers=existing.headers), True
        raise KeyInUse
    finally:
        _in_flight.discard(flight)


async def purge_expired_keys(*, batch_size: int) -> int:
    """Delete expired keys, a batch per transaction, claimed with FOR UPDATE SKIP LOCKED on PostgreSQL
    so that workers purging at once share the rows without waiting. The number this call deleted."""
    purged = 0
    while True:
        async with in_transaction() as connection:
            claimed = (
                IdempotencyKey.filter(expires_at__lte=datetime.now(UTC))
                .limit(batch_size)
                .select_for_update(skip_locked=True)
                .values("id")
            )
            deleted = await IdempotencyKey.filter(id__in=Subquery(claimed)).using_db(connection).delete()
        purged += deleted
        if deleted < batch_size:
            return purged
