"""No path and method is matched by two routes, so the order the routers are included in (the hot notes
routes first, for speed: notes_app/main.py) changes no answer."""

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from notes_app.config import Settings
from notes_app.main import create_app

_PARAMETER = re.compile(r"{[^}]+}")


def overlaps(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path, the routes that match it) wherever a route's own paths match another route too."""
    table = []
    for route in iter_route_contexts(app.routes):
        assert route.path is not None, route
        assert route.methods, route
        regex, _, _ = compile_path(route.path)
        table.append((route.path, regex, route.methods))
    found = []
    for path, _, methods in table:
        # A path the route serves: every parameter a plausible value ("1" passes every convertor here).
        sample = _PARAMETER.sub("1", path)
        for method in sorted(methods):
            matching = [other for other, regex, others in table if method in others and regex.fullmatch(sample)]
            if matching != [path]:
                found.append((method, sample, matching))
    return found


def test_no_path_and_method_is_matched_by_two_routes() -> None:
    assert overlaps(create_app(Settings(database_url="sqlite://:memory:"))) == []


def test_a_route_that_shadows_others_is_caught() -> None:
    app = create_app(Settings(database_url="sqlite://:memory:"))

    @app.get("/notes/{anything}")
    async def shadowing(anything: str) -> None: ...

    found = overlaps(app)

    assert ("GET", "/notes/1", ["/notes/{note_id:id}", "/notes/{anything}"]) in found
    assert ("GET", "/notes/changes", ["/notes/changes", "/notes/{anything}"]) in found
    assert not [overlap for overlap in found if overlap[0] != "GET"]  # another method is no overlap
