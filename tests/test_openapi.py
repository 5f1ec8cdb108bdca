"""The OpenAPI document tells the truth about statuses, error bodies and headers."""

from typing import Any

import httpx
import pytest

from notes_app.errors import PROBLEM_MEDIA_TYPE


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_fastapi_default_error_shapes_do_not_appear(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert {"Problem", "ValidationProblem"} <= set(schemas)


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert set(response["content"]) == {PROBLEM_MEDIA_TYPE}, (method, path, status)
                expected = "ValidationProblem" if status == "422" else "Problem"
                schema_ref = response["content"][PROBLEM_MEDIA_TYPE]["schema"]["$ref"]
                assert schema_ref.endswith(f"/{expected}"), (method, path, status)


def test_each_route_documents_the_errors_it_can_answer(document: dict[str, Any]) -> None:
    expected = {
        ("POST", "/notes"): {"201", "400", "401", "403", "409", "413", "415", "422", "503"},
        ("GET", "/notes"): {"200", "401", "422", "503"},
        ("POST", "/notes/bulk"): {"201", "400", "401", "403", "409", "413", "415", "422", "503"},
        ("GET", "/notes/{note_id}"): {"200", "304", "401", "404", "422", "503"},
        ("PUT", "/notes/{note_id}"): {"200", "400", "401", "403", "404", "412", "413", "415", "422", "503"},
        ("PATCH", "/notes/{note_id}"): {"200", "400", "401", "403", "404", "412", "413", "415", "422", "503"},
        ("DELETE", "/notes/{note_id}"): {"204", "401", "403", "404", "412", "422", "503"},
        ("GET", "/notes/{note_id}/revisions"): {"200", "401", "404", "422", "503"},
        ("GET", "/notes/{note_id}/revisions/{version}"): {"200", "401", "404", "422", "503"},
        ("GET", "/notes/{note_id}/revisions/{version}/diff"): {"200", "401", "404", "422", "503"},
        ("POST", "/notes/{note_id}/revisions/{version}/restore"): {"200", "401", "403", "404", "412", "422", "503"},
        ("GET", "/trash"): {"200", "401", "422", "503"},
        ("DELETE", "/trash"): {"204", "401", "403", "503"},
        ("POST", "/trash/{note_id}/restore"): {"200", "401", "403", "404", "422", "503"},
        ("DELETE", "/trash/{note_id}"): {"204", "401", "403", "404", "422", "503"},
        ("POST", "/users"): {"201", "400", "409", "413", "415", "422", "503"},
        ("POST", "/auth/token"): {"200", "401", "413", "422", "429", "503"},
        ("POST", "/auth/refresh"): {"200", "400", "401", "413", "415", "422", "503"},
        ("POST", "/auth/logout"): {"204", "401", "403", "503"},
        ("GET", "/users/me"): {"200", "401", "503"},
        ("DELETE", "/users/me"): {"204", "400", "401", "403", "413", "415", "422", "429", "503"},
        ("PUT", "/users/me/password"): {"204", "400", "401", "403", "413", "415", "422", "429", "503"},
        ("GET", "/users/me/sessions"): {"200", "401", "403", "503"},
        ("DELETE", "/users/me/sessions"): {"204", "401", "403", "503"},
        ("DELETE", "/users/me/sessions/{session_id}"): {"204", "401", "403", "404", "422", "503"},
        ("POST", "/users/me/tokens"): {"201", "400", "401", "403", "409", "413", "415", "422", "503"},
        ("GET", "/users/me/tokens"): {"200", "401", "403", "503"},
        ("DELETE", "/users/me/tokens/{token_id}"): {"204", "401", "403", "404", "422", "503"},
        ("GET", "/health/live"): {"200"},
        ("GET", "/health/ready"): {"200", "503"},
        ("GET", "/metrics"): {"200"},
        ("GET", "/notes/changes"): {"200", "401", "410", "422", "429", "503"},
        ("POST", "/webhooks"): {"201", "400", "401", "403", "409", "413", "415", "422", "503"},
        ("GET", "/webhooks"): {"200", "401", "503"},
        ("DELETE", "/webhooks/{webhook_id}"): {"204", "401", "403", "404", "422", "503"},
        ("GET", "/webhooks/{webhook_id}/deliveries"): {"200", "401", "404", "422", "503"},
        ("GET", "/export"): {"200", "401", "503"},
        ("POST", "/import"): {"201", "401", "403", "409", "413", "415", "422", "503"},
    }

    documented = {(method, path): set(op["responses"]) for method, path, op in operations(document)}

    assert documented == expected


def test_note_responses_document_etag_and_creation_documents_location(document: dict[str, Any]) -> None:
    # Every route that answers with one note: the note routes, and the restores (from a revision or the trash).
    note_routes = [
        (m, p, op)
        for m, p, op in operations(document)
        if (p.startswith("/notes/{") and "/revisions" not in p)
        or p.endswith("/restore")
        or (m, p) == ("POST", "/notes")
    ]
    for method, path, operation in note_routes:
        success = next(status for status in operation["responses"] if status.startswith("2"))
        if success != "204":
            assert "ETag" in operation["responses"][success]["headers"], (method, path)
    assert "Location" in document["paths"]["/notes"]["post"]["responses"]["201"]["headers"]


def test_idempotent_creates_document_the_key_the_replay_and_the_409(document: dict[str, Any]) -> None:
    for path in ("/notes", "/notes/bulk"):
        operation = document["paths"][path]["post"]
        key = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert key["in"] == "header"
        assert key["schema"]["anyOf"][0] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
        assert "Retry-After" in operation["responses"]["409"]["headers"]


def test_diff_is_documented_as_plain_text(document: dict[str, Any]) -> None:
    responses = document["paths"]["/notes/{note_id}/revisions/{version}/diff"]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"text/plain; charset=utf-8"}


def test_patch_documents_no_null_and_no_defaults(document: dict[str, Any]) -> None:
    patch = document["components"]["schemas"]["NotePatch"]

    for name, field in patch["properties"].items():
        assert "anyOf" not in field, name
        assert "default" not in field, name
        assert field.get("type") != "null", name
    assert patch["additionalProperties"] is False


def test_401_403_429_and_503_document_their_headers(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        responses = operation["responses"]
        for status, header in (
            ("401", "WWW-Authenticate"),
            ("403", "WWW-Authenticate"),
            ("429", "Retry-After"),
            ("503", "Retry-After"),
        ):
            if status in responses:
                assert header in responses[status]["headers"], (method, path, status)


def test_note_routes_declare_bearer_security(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert [scheme["type"] for scheme in schemes.values()] == ["oauth2"]
    for method, path, operation in operations(document):
        if path.startswith(("/notes", "/users/me", "/auth/logout", "/export", "/import")):
            assert operation.get("security"), (method, path)


def test_get_note_declares_the_security_its_dependency_would(document: dict[str, Any]) -> None:
    # GET /notes/{note_id} takes its caller without TokenCaller (notes_app/notes/router.py) and declares
    # the scheme itself: the same requirement as the routes that take TokenCaller.
    note = document["paths"]["/notes/{note_id}"]
    assert note["get"]["security"] == note["put"]["security"] == document["paths"]["/notes"]["get"]["security"]
    assert note["get"]["security"] == [{name: []} for name in document["components"]["securitySchemes"]]


def test_412_and_304_carry_the_current_etag(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status in ("304", "412"):
            if status in operation["responses"]:
                assert "ETag" in operation["responses"][status]["headers"], (method, path, status)


def test_conditional_headers_are_documented_parameters(document: dict[str, Any]) -> None:
    item = document["paths"]["/notes/{note_id}"]
    headers = {
        method: {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        for method, operation in item.items()
    }
    assert headers == {"get": {"If-None-Match"}, "put": {"If-Match"}, "patch": {"If-Match"}, "delete": {"If-Match"}}


def test_every_write_success_documents_the_read_your_writes_cookie_and_nothing_else_does(
    document: dict[str, Any],
) -> None:
    # What ReplicaRouting does (tests/test_replicas.py shows it on a real replica): any request but GET or
    # HEAD that answers below 400 may set the cookie; reads and errors never do.
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            cookie = response.get("headers", {}).get("Set-Cookie")
            if method not in {"GET", "HEAD"} and int(status) < 400:
                assert cookie is not None, (method, path, status)
                assert "notes_read_after=" in cookie["description"]
                assert "DATABASE_REPLICA_URLS" in cookie["description"]  # says when it is set at all
            else:
                assert cookie is None, (method, path, status)
    assert "Set-Cookie" in document["paths"]["/auth/token"]["post"]["responses"]["200"]["headers"]
    assert "Set-Cookie" in document["paths"]["/notes/{note_id}"]["delete"]["responses"]["204"]["headers"]
