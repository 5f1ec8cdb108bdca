"""A read-only personal access token can write nothing: every unsafe method of every route under the
notes, trash, webhooks and import paths answers 403 insufficient_scope and changes nothing.

The routes are enumerated from the app, not listed here, so a route added later is covered by this
test as soon as it exists, and fails it if it does not take its caller from the one rule
(notes_app/users/dependencies.py)."""

import re

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from tortoise import Tortoise

from notes_app.config import Settings
from notes_app.main import create_app
from notes_app.users.dependencies import refuses_read_only_tokens
from tests.conftest import Account, create_note
from tests.users.accounts import bearer, make_token

GUARDED_PREFIXES = ("/notes", "/trash", "/webhooks", "/import", "/export")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def unsafe_operations(settings: Settings) -> list[tuple[str, str, APIRoute]]:
    app = create_app(settings)
    found = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.path_format.startswith(GUARDED_PREFIXES):
            continue
        for method in sorted((route.methods or set()) & UNSAFE):
            found.append((method, route.path_format, route))
    return found


async def row_counts() -> dict[str, int]:
    return {name: await model.all().count() for name, model in Tortoise.apps["models"].items()}


async def test_every_unsafe_route_takes_its_caller_from_the_write_scope_rule(settings: Settings) -> None:
    operations = unsafe_operations(settings)

    assert {(method, path) for method, path, _ in operations} >= {("POST", "/notes"), ("DELETE", "/notes/{note_id}")}
    for method, path, route in operations:
        assert refuses_read_only_tokens(route), (method, path)


async def test_a_read_only_token_gets_403_from_every_unsafe_route_and_nothing_changes(
    settings: Settings, client: httpx.AsyncClient, alice: Account
) -> None:
    note = await create_note(client)
    token = (await make_token(client, alice, scopes=["notes:read"]))["token"]
    before = await row_counts()

    for method, path, _ in unsafe_operations(settings):
        # Every path parameter names the caller's note (or 1): the scope is refused before anything
        # is looked up, whatever the ids name.
        url = re.sub(r"\{[^}]+\}", str(note["id"]), path)
        response = await client.request(method, url, json={}, headers=bearer(token))
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="notes:write"'

    # last_used_at may move; no row appears, goes, or changes its note.
    assert await row_counts() == before
    assert (await client.get(f"/notes/{note['id']}")).json() == note


def guarded_operations(settings: Settings) -> list[tuple[str, str]]:
    app = create_app(settings)
    return sorted(
        (method, route.path_format)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and route.path_format.startswith(GUARDED_PREFIXES)
        for method in route.methods or set()
    )


async def test_every_route_under_the_guarded_paths_is_401_without_a_valid_token_and_nothing_changes(
    settings: Settings, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    # Some routes take their caller in the route rather than as a dependency (GET /notes/{id},
    # token_caller): enumerated from the app, a route that forgets to take one fails here.
    note = await create_note(client)
    before = await row_counts()
    operations = guarded_operations(settings)
    assert ("GET", "/notes/{note_id}") in operations

    for headers in ({}, bearer("not-a-token")):
        for method, path in operations:
            url = re.sub(r"\{[^}]+\}", str(note["id"]), path)
            response = await anonymous.request(method, url, json={}, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
    assert await row_counts() == before
