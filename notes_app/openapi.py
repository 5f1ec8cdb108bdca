"""The OpenAPI document, made to say what the error handlers really send."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from notes_app.errors import PROBLEM_HEADERS, PROBLEM_MEDIA_TYPE
from notes_app.replicas import COOKIE, sets_read_after
from notes_app.users.dependencies import refuses_read_only_tokens


def _problem_media_types(document: dict[str, Any]) -> None:
    # FastAPI files every declared response body under the route's media type (application/json, or
    # application/zip for GET /export); errors are problem+json.
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and len(content) == 1 and PROBLEM_MEDIA_TYPE not in content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content.popitem()[1]}


def _document_write_scope(app: FastAPI, document: dict[str, Any]) -> None:
    # The write-scope rule is one dependency (notes_app/users/dependencies.py), so its 403 is documented
    # here for every operation it guards, including those of routes that never mention it themselves.
    forbidden = {
        "description": "Forbidden",
        "headers": PROBLEM_HEADERS[403],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not refuses_read_only_tokens(route):
            continue
        path_item = document["paths"].get(route.path_format, {})
        for method in route.methods or ():
            if (operation := path_item.get(method.lower())) is not None:
                operation["responses"].setdefault("403", forbidden)


_READ_AFTER_COOKIE = {
    "description": (
        f"`{COOKIE}=<opaque>; Max-Age=<seconds>; Path=/; HttpOnly; SameSite=Lax`, only from a service that reads "
        "from replicas (DATABASE_REPLICA_URLS), and only when the write's position could be read. Send it "
        "back: reads then come from a replica only once it has this write (read-your-writes). Signed and "
        "short-lived (about REPLICA_MAX_LAG_SECONDS); an altered or expired one is ignored."
    ),
    "schema": {"type": "string"},
}


def _document_read_after_cookie(document: dict[str, Any]) -> None:
    # Set by a middleware (notes_app/replicas.py), so no route declares it: documented here on every
    # response the middleware's rule covers. One document for every deployment, hence "only from".
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and sets_read_after(method.upper(), int(status)):
                    response.setdefault("headers", {})["Set-Cookie"] = dict(_READ_AFTER_COOKIE)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            _problem_media_types(document)
            _document_write_scope(app, document)
            _document_read_after_cookie(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
