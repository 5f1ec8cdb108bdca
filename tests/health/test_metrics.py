"""HttpMetrics: every observation lands in its own (method, route, status) series, however often it recurs."""

from prometheus_client import CollectorRegistry

from notes_app.health.metrics import HttpMetrics


def test_observations_of_one_series_add_up_and_other_series_stay_apart() -> None:
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)

    for seconds in (0.25, 0.5, 2.0):  # exact in binary: the sum compares exactly
        metrics.observe(method="GET", route="/notes/{note_id}", status=200, seconds=seconds)
    metrics.observe(method="GET", route="/notes/{note_id}", status=404, seconds=0.003)
    metrics.observe(method="PUT", route="/notes/{note_id}", status=200, seconds=0.003)

    def value(name: str, method: str, status: str) -> float | None:
        return registry.get_sample_value(name, {"method": method, "route": "/notes/{note_id}", "status": status})

    assert value("notes_http_requests_total", "GET", "200") == 3
    assert value("notes_http_request_duration_seconds_count", "GET", "200") == 3
    assert value("notes_http_request_duration_seconds_sum", "GET", "200") == 2.75
    assert value("notes_http_requests_total", "GET", "404") == 1
    assert value("notes_http_requests_total", "PUT", "200") == 1
    assert value("notes_http_requests_total", "PUT", "404") is None
