"""Liveness, readiness and metrics: for orchestrators and scrapers, so no token is needed."""

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel

from notes_app.db import DATABASE_UNAVAILABLE, ping_database
from notes_app.errors import RETRY_AFTER_SECONDS, problem_response, problem_responses
from notes_app.health.readiness import DatabaseProbe

router = APIRouter(tags=["health"])

READINESS_TIMEOUT_SECONDS = 2.0


class Live(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    database: str


_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        **problem_responses(503)[503],
        "description": 'The database did not answer within 2 s; the problem carries `"database": "unavailable"`.',
    }
}


@router.get("/health/live", response_model=Live)
async def live() -> Live:
    """The process is up and serving; touches no database."""
    return Live(status="ok")


def database_probe() -> DatabaseProbe:
    return DatabaseProbe(ping_database, timeout=READINESS_TIMEOUT_SECONDS, unavailable=DATABASE_UNAVAILABLE)


@router.get("/health/ready", response_model=Ready, responses=_UNAVAILABLE)
async def ready(request: Request) -> Ready | Response:
    """The database answers a query within 2 s."""
    probe: DatabaseProbe = request.app.state.database_probe
    if not await probe.database_answers():
        return problem_response(
            503,
            "the database did not answer in time",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            extensions={"database": "unavailable"},
        )
    return Ready(status="ok", database="ok")


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    # Gauges counted in the database (webhook events pending) are read now, not kept current per write.
    if (refresh := getattr(request.app.state, "refresh_metrics", None)) is not None:
        await refresh()
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
