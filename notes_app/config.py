"""Settings, read once from the environment (and an optional `.env` file)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Dialect = Literal["postgres", "sqlite"]

_DIALECT_BY_SCHEME: dict[str, Dialect] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "asyncpg": "postgres",
    "sqlite": "sqlite",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Tortoise's URL form: postgres://user:pass@host:5432/db or sqlite://path (relative to the
    # working directory). The default needs no server, so `make run` works on a bare machine.
    database_url: str = "sqlite://notes.sqlite3"
    # PostgreSQL pool bounds. On 2 cores, 5 connections served more requests than 10 or 20.
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=5, ge=1)
    # Seconds a request may wait for a pooled connection (or a new one to be opened) before it fails,
    # so an exhausted pool or an unreachable server never makes a request hang.
    db_acquire_timeout: float = Field(default=5.0, gt=0)
    # Seconds a single statement may take before it fails (asyncpg's command_timeout).
    db_command_timeout: float = Field(default=10.0, gt=0)
    # True when DATABASE_URL points at PgBouncer in transaction mode, where each transaction may run on
    # a different server connection: no prepared-statement cache (a statement prepared on one server
    # connection is missing on the next) and no startup `server_settings` (PgBouncer refuses startup
    # parameters it does not know). See docs/scaling.md.
    db_pgbouncer: bool = False
    # Where the change feed's one LISTEN connection per process goes. LISTEN is session state, which a
    # PgBouncer in transaction mode cannot keep: behind one, point this at PostgreSQL itself.
    # Empty: DATABASE_URL.
    database_listen_url: str = ""
    # Streaming replicas of DATABASE_URL's server, comma-separated URLs of the same form: GET note, list
    # and search read from one (notes_app/replicas.py). Empty: every query goes to DATABASE_URL.
    database_replica_urls: str = ""
    # A replica further behind the primary than this is skipped (reads go to the primary) until it
    # catches up. A caller's own writes are always read back fresh, whatever the lag.
    replica_max_lag_seconds: float = Field(default=5.0, gt=0)
    # Seconds between two checks of each replica's health and lag, per worker.
    replica_check_seconds: float = Field(default=1.0, gt=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # One JSON line per request on stdout (notes_app/observability.py); false when something in front
    # (a proxy, the platform) logs requests already.
    access_log: bool = True
    # POST /import's own body limit (a ZIP of a whole vault), instead of max_body_bytes. What the archive
    # may inflate to is bounded separately (notes_app/transfer/archive.py).
    max_import_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    # Signs access tokens. Required on PostgreSQL; with an SQLite file, one is generated on first start
    # and kept beside the database (see notes_app/users/signing_key.py).
    secret_key: SecretStr | None = Field(default=None, min_length=32)
    # An access token (JWT) lives this long; a client renews it with its session's refresh token.
    # Short, because a stolen one works until it expires... unless its session is ended, which every
    # request checks.
    access_token_minutes: int = Field(default=15, ge=1)
    # A session ends when it has not been refreshed for this many days (each refresh restarts the count).
    refresh_token_days: int = Field(default=30, ge=1)
    # Argon2id's cost for new password hashes (notes_app/users/passwords.py): memory in KiB and passes
    # over it. Each login holds the memory while it hashes. The memory floor is OWASP's smallest (7 MiB, which
    # OWASP pairs with 5 passes: lower memory wants more passes; these bounds only refuse nonsense).
    password_hash_memory_kib: int = Field(default=19_456, ge=7_168, le=4 * 1024 * 1024)
    password_hash_time_cost: int = Field(default=2, ge=1, le=100)
    # Failed logins allowed per username per minute before 429. The counts live in `login_limit_storage`
    # (a `limits` storage URL): in memory for one process, e.g. async+redis://host:6379 for several.
    login_failures_per_minute: int = Field(default=10, ge=1)
    login_limit_storage: str = "async+memory://"
    # Seconds a login waits for that storage before giving up with 503: a storage that hangs must not
    # hang logins.
    login_limit_timeout_seconds: float = Field(default=2.0, gt=0)
    # Days a note stays in the trash before the service deletes it for good (fractions allowed).
    trash_retention_days: float = Field(default=30, ge=0)
    # Seconds between two runs of the purge (expired trash, expired idempotency keys).
    purge_interval_seconds: float = Field(default=600, gt=0)
    # Rows one purge transaction deletes: small transactions hold few locks for a short time.
    purge_batch_size: int = Field(default=500, ge=1, le=10_000)
    # The newest versions of each note that stay in its history.
    revisions_per_note: int = Field(default=100, ge=1)
    # Hours an Idempotency-Key and the answer it got are kept.
    idempotency_key_hours: float = Field(default=24, gt=0)
    # The change feed keeps tombstones of purged notes this long; a cursor that may have missed a pruned
    # one is refused with 410 and the client starts again. Fractions allowed.
    tombstone_retention_days: float = Field(default=90, gt=0)
    # Long polls (`GET /notes/changes?wait=`) one user may have waiting at once in one process; beyond it 429.
    feed_max_waiters_per_user: int = Field(default=10, ge=1)
    # Webhook delivery: a failed attempt is retried after WEBHOOK_RETRY_BASE_SECONDS x 2^(attempt-1),
    # up to WEBHOOK_MAX_ATTEMPTS attempts in all.
    webhook_retry_base_seconds: float = Field(default=5, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1, le=30)
    # Webhook URLs that resolve to loopback, private, link-local, multicast or reserved addresses are
    # refused (at creation and at every delivery) unless this is true: for tests and closed networks.
    webhook_allow_private_targets: bool = False
    # Seconds to open a connection to a receiver; the whole answer must arrive within 10 s (the contract).
    webhook_connect_timeout_seconds: float = Field(default=5, gt=0, le=10)
    # Deliveries under way at once per process, and how often the delivery task looks for due events.
    webhook_delivery_concurrency: int = Field(default=16, ge=1)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)

    # The production server (`notes_app`, `make serve`; notes_app/serve.py). WEB_CONCURRENCY worker
    # processes: about one per core, since each is one event loop on one core.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    web_concurrency: int = Field(default=1, ge=1)
    # Seconds a stopping server lets requests in progress finish before it closes their connections.
    graceful_shutdown_seconds: int = Field(default=30, ge=1)
    # Addresses (comma-separated, or *) whose X-Forwarded-For/-Proto are believed: the balancer's.
    forwarded_allow_ips: str = "127.0.0.1"

    @property
    def dialect(self) -> Dialect:
        return dialect_of(self.database_url)

    @property
    def listen_url(self) -> str:
        return self.database_listen_url or self.database_url

    @property
    def replica_urls(self) -> list[str]:
        return [url.strip() for url in self.database_replica_urls.split(",") if url.strip()]


def dialect_of(database_url: str) -> Dialect:
    scheme = database_url.split("://", 1)[0].lower()
    try:
        return _DIALECT_BY_SCHEME[scheme]
    except KeyError:
        raise ValueError(f"DATABASE_URL scheme {scheme!r} is not supported: use postgres:// or sqlite://") from None


@lru_cache
def get_settings() -> Settings:
    return Settings()
