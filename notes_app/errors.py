"""RFC 9457 problem details: the one place where exceptions become HTTP error responses."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

import orjson
import tortoise.exceptions
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

PROBLEM_MEDIA_TYPE = "application/problem+json"
# How long a client should wait after a 503 before retrying: the pool reconnects on the next request.
RETRY_AFTER_SECONDS = 2

logger = logging.getLogger(__name__)


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    errors: list[ValidationErrorItem]


class ProblemError(Exception):
    """A domain failure with an HTTP meaning. Services raise subclasses; they know nothing of HTTP
    beyond the status each kind of failure maps to."""

    status: ClassVar[int]

    def __init__(
        self, detail: str, *, headers: Mapping[str, str] | None = None, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers: Mapping[str, str] = headers or {}
        # A 422 names what was wrong like a validation error does (`errors`: loc, msg, type).
        self.errors = errors


class UnsupportedMediaType(ProblemError):
    status = 415


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail is not None:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extensions or {})
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "The `Bearer` challenge.", "schema": {"type": "string"}}},
    403: {
        "WWW-Authenticate": {
            "description": 'The `Bearer error="insufficient_scope"` challenge.',
            "schema": {"type": "string"},
        }
    },
    503: {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}},
    429: {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the problems a route can answer, with the headers they carry."""
    return {
        status: {
            "model": ValidationProblem if status == 422 else Problem,
            "description": HTTPStatus(status).phrase,
            **({"headers": PROBLEM_HEADERS[status]} if status in PROBLEM_HEADERS else {}),
        }
        for status in statuses
    }


async def _problem_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.status, exc.detail, headers=exc.headers, errors=exc.errors)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        return problem_response(400, "the request body is not valid JSON")
    return problem_response(
        422,
        "the request does not satisfy the API's rules",
        # Only loc, msg and type: pydantic's `input` and `ctx` can echo request data back.
        errors=[{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors],
    )


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    # Starlette's 405 names only the methods of the first route that matched the path; RFC 9110
    # wants all of them (GET /notes and POST /notes are two routes). So ask the router, method by
    # method, which ones this path would be served for.
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in request.app.router.routes
        )
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = ", ".join(allowed)
    return problem_response(exc.status_code, detail, headers=headers)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    logger.warning("database unavailable during %s %s: %r", request.method, request.url.path, exc)
    return problem_response(
        503,
        "the database is unavailable: retry after the delay in Retry-After",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unchecked_value(request: Request, exc: Exception) -> Response:
    # Tortoise checks values against their fields (a 5,000-character string compared with a 40-character
    # column) before any SQL runs. Every request value is bounded before it reaches a query, so this is
    # a value that slipped through: the request was at fault (422), and the log says where to add a bound.
    logger.error("a request value reached the ORM unchecked: %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(422, "a value in the request is out of the range this service accepts")


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The client learns nothing about internals. Starlette re-raises the exception after this
    # response is sent, so the server still logs it with its traceback. This handler runs outside
    # the request-id middleware (in Starlette's ServerErrorMiddleware), so it sets the id itself.
    request_id = request.scope.get("state", {}).get("request_id")
    return problem_response(500, headers={"X-Request-ID": request_id} if request_id else None)


def install_error_handlers(app: FastAPI, *, database_unavailable: tuple[type[Exception], ...]) -> None:
    for exception_class in database_unavailable:
        app.add_exception_handler(exception_class, _database_unavailable)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(tortoise.exceptions.ValidationError, _unchecked_value)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
