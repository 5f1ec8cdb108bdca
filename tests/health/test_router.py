"""Liveness, readiness and Prometheus metrics."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import create_note


async def test_live_is_ok_without_a_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_the_database(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_requests_by_route_template_and_status(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    await client.get(f"/notes/{note['id']}")
    await client.get(f"/notes/{note['id']}")
    await client.get("/notes/424242")
    await client.get("/no/such/route")

    response = await client.get("/metrics", headers={"Authorization": ""})  # scrapers send no token

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found = samples(response.text)
    get_note = (("method", "GET"), ("route", "/notes/{note_id}"))
    assert found[("notes_http_requests_total", (*get_note, ("status", "200")))] == 2
    assert found[("notes_http_requests_total", (*get_note, ("status", "404")))] == 1
    assert found[("notes_http_requests_total", (("method", "GET"), ("route", "<unmatched>"), ("status", "404")))] == 1
    assert found[("notes_http_request_duration_seconds_count", (*get_note, ("status", "200")))] == 2


async def test_metrics_show_the_pool_on_postgres(client: httpx.AsyncClient, dialect: str) -> None:
    await client.get("/notes")

    found = samples((await client.get("/metrics")).text)

    pool = {labels: value for (name, labels), value in found.items() if name == "notes_db_pool_connections"}
    if dialect == "postgres":
        assert set(pool) == {(("state", "idle"),), (("state", "in_use"),)}
        assert pool[(("state", "idle"),)] + pool[(("state", "in_use"),)] >= 1
    else:
        assert pool == {}  # SQLite has one connection and no pool
