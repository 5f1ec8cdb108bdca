"""The OpenAPI document, made to say what the error handlers really send."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from notes_app.errors import PROBLEM_MEDIA_TYPE


def _problem_media_types(document: dict[str, Any]) -> None:
    # FastAPI files every declared response body under application/json; errors are problem+json.
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            _problem_media_types(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
