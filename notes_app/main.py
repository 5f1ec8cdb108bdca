"""The application factory and the ASGI object `notes_app.main:app`."""

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from notes_app.background import periodic_tasks, running
from notes_app.body_limit import BodyLimitMiddleware
from notes_app.config import Settings, get_settings
from notes_app.db import DATABASE_UNAVAILABLE, database_pool_stats, register_database
from notes_app.errors import install_error_handlers
from notes_app.health.metrics import HttpMetrics, PoolCollector
from notes_app.health.router import database_probe
from notes_app.health.router import router as health_router
from notes_app.notes.revisions import keep_revisions
from notes_app.notes.revisions_router import router as revisions_router
from notes_app.notes.router import router as notes_router
from notes_app.notes.trash_router import router as trash_router
from notes_app.observability import RequestObservability, configure_access_log
from notes_app.openapi import install_openapi
from notes_app.replicas import ReplicaRouting, ReplicaSet
from notes_app.sync.delivery import DeliveryPolicy, pending_events, run_deliveries
from notes_app.sync.metrics import SyncMetrics, WaitersCollector
from notes_app.sync.notifier import ChangeNotifier
from notes_app.sync.router import router as sync_router
from notes_app.transfer.router import router as transfer_router
from notes_app.users.credentials import CredentialReader
from notes_app.users.login_limit import LoginLimit
from notes_app.users.passwords import configure_password_hashing
from notes_app.users.router import router as users_router
from notes_app.users.signing_key import signing_key
from notes_app.users.tokens import TokenIssuer

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Only with replicas: without them no request pays for routing (notes_app/replicas.py).
    replicas = replica_set(settings) if settings.replica_urls else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Runs inside the ORM's lifespan (register_tortoise wraps this one), so the tasks have the
        # database from their first run to their cancellation, and the replicas' pools close first.
        policy = DeliveryPolicy.from_settings(settings)

        def deliveries(stop: asyncio.Event) -> Coroutine[Any, Any, None]:
            return run_deliveries(policy=policy, stop=stop, metrics=app.state.sync_metrics)

        try:
            async with running(periodic_tasks(settings), loops=[("webhook delivery", deliveries)]):
                yield
        finally:
            notifier: ChangeNotifier = app.state.change_notifier
            await notifier.close()  # the long polls' LISTEN connection
            if replicas is not None:
                await replicas.close()

    app = FastAPI(
        title="notes_app",
        version="1",
        summary="Private notes over HTTP: create, read, replace, patch, list and delete your own notes.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    keep_revisions(settings.revisions_per_note)
    configure_password_hashing(memory_kib=settings.password_hash_memory_kib, time_cost=settings.password_hash_time_cost)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        # An import carries a whole vault; what it may inflate to is bounded by the import itself.
        limits_by_path={"/import": settings.max_import_bytes},
    )
    if replicas is not None:
        app.add_middleware(ReplicaRouting, replicas=replicas)
    # Added last, so outermost: a 413 from the body limit gets an id, a log line and a count too.
    app.state.metrics_registry = CollectorRegistry()
    app.state.metrics_registry.register(PoolCollector(database_pool_stats))
    if settings.db_pgbouncer and settings.dialect == "postgres" and not settings.database_listen_url:
        # Not refused: everything but the long polls works. LISTEN through PgBouncer in transaction mode
        # succeeds, on a server connection that then goes back to PgBouncer's pool, so the notifications
        # sent to it are lost and a long poll answers only when its `wait` runs out (tests/sync through
        # PgBouncer did exactly that before the tests set DATABASE_LISTEN_URL).
        logger.warning(
            "DB_PGBOUNCER=true without DATABASE_LISTEN_URL: the change feed would LISTEN through PgBouncer, "
            "where its notifications are lost; set DATABASE_LISTEN_URL to PostgreSQL itself"
        )
    app.state.change_notifier = ChangeNotifier(
        database_url=settings.listen_url,
        dialect=settings.dialect,
        max_waiters_per_user=settings.feed_max_waiters_per_user,
    )
    app.state.sync_metrics = SyncMetrics(app.state.metrics_registry)
    app.state.metrics_registry.register(
        WaitersCollector(lambda: app.state.change_notifier.waiting, app.state.sync_metrics)
    )

    async def refresh_metrics() -> None:
        try:
            app.state.sync_metrics.pending = await pending_events()
        except DATABASE_UNAVAILABLE:
            app.state.sync_metrics.pending = None  # the gauge is left out rather than the scrape failed

    app.state.refresh_metrics = refresh_metrics
    app.add_middleware(
        RequestObservability,
        metrics=HttpMetrics(app.state.metrics_registry),
        log=configure_access_log() if settings.access_log else None,
    )
    # Resolved here, not on first use: a PostgreSQL deployment without SECRET_KEY refuses to start.
    app.state.token_issuer = TokenIssuer(
        key=signing_key(settings), lifetime=timedelta(minutes=settings.access_token_minutes)
    )
    app.state.credentials = CredentialReader(app.state.token_issuer)
    app.state.session_lifetime = timedelta(days=settings.refresh_token_days)
    app.state.login_limit = LoginLimit(
        failures_per_minute=settings.login_failures_per_minute,
        storage_url=settings.login_limit_storage,
        timeout_seconds=settings.login_limit_timeout_seconds,
    )
    app.state.database_probe = database_probe()
    install_error_handlers(app, database_unavailable=DATABASE_UNAVAILABLE)
    # The notes first: FastAPI tries the included routers in turn, and each route it passes over costs
    # (FastAPI 0.165's nested matching, about 10 µs a route): behind the 21 routes of health, users and
    # sync, routing was a quarter of GET /notes/{id}'s CPU. The order changes no answer: no path and
    # method is matched by two routes (tests/test_routes.py); /notes/changes is not a note, since
    # `{note_id:id}` takes digits only.
    app.include_router(notes_router)
    app.include_router(health_router)
    app.include_router(users_router)
    app.include_router(sync_router)
    app.include_router(revisions_router)
    app.include_router(trash_router)
    app.include_router(transfer_router)
    install_openapi(app)
    register_database(app, settings)
    return app


def replica_set(settings: Settings) -> ReplicaSet:
    return ReplicaSet(
        urls=settings.replica_urls,
        settings=settings,
        max_lag=settings.replica_max_lag_seconds,
        check_interval=settings.replica_check_seconds,
        signing_key=signing_key(settings).encode(),
    )


app = create_app()
