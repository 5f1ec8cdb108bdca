"""Every request value that reaches a query is bounded first: out-of-range values get the answer the
contract gives (401, 404, 412, 422), never a 500, on both databases.

Tortoise checks values against their fields before any SQL runs (a 5,000-character username compared
with a 40-character column raises its ValidationError), and PostgreSQL refuses what its types cannot
hold (NUL in text, integers beyond the column): each input is tried with such values here.
"""

import logging

import httpx
import pytest
from fastapi import FastAPI

from notes_app.config import Settings
from notes_app.main import create_app
from notes_app.notes.models import Note
from notes_app.users.models import User
from tests.conftest import Account, assert_problem, create_note, note_payload
from tests.users.test_router import log_in

HUGE_USERNAMES = ["nobody-" + "x" * 5000, "x" * 41, "nul\x00name", "x" * 100_000]


@pytest.mark.parametrize("username", HUGE_USERNAMES, ids=["5007", "41", "nul", "100000"])
async def test_a_username_no_account_can_have_is_the_same_401_at_the_same_cost_as_a_wrong_password(
    anonymous: httpx.AsyncClient, alice: Account, verifications: list[str | None], username: str
) -> None:
    wrong_password = await log_in(anonymous, alice.username, "not the password")
    impossible_username = await log_in(anonymous, username, "x")

    assert_problem(impossible_username, 401)
    assert impossible_username.json() == wrong_password.json()
    assert impossible_username.headers["www-authenticate"] == wrong_password.headers["www-authenticate"]
    # One full Argon2 check each: the impossible username against the unknown-user hash.
    assert verifications == [verifications[0], None]


async def test_impossible_usernames_still_count_against_a_bounded_login_limit(anonymous: httpx.AsyncClient) -> None:
    # Ten attempts a minute per username (the default): overlong ones count under their first 41
    # characters, so the eleventh of them is refused like any other.
    statuses = [(await log_in(anonymous, "y" * 5000 + str(attempt), "x")).status_code for attempt in range(11)]
    assert statuses == [401] * 10 + [429]


@pytest.mark.parametrize("username", ["x" * 5000, "nul\x00name"])
async def test_signing_up_with_an_impossible_username_is_422(anonymous: httpx.AsyncClient, username: str) -> None:
    before = await User.all().count()
    assert_problem(await anonymous.post("/users", json={"username": username, "password": "long enough"}), 422)
    assert await User.all().count() == before


@pytest.mark.parametrize("note_id", ["2147483648", str(2**63), str(10**30), "0" * 5000 + "1" + "0" * 20])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_a_note_id_beyond_the_id_column_is_404_for_every_method(
    client: httpx.AsyncClient, method: str, note_id: str
) -> None:
    response = await client.request(method, f"/notes/{note_id}", json=note_payload() if method == "PUT" else None)
    if method == "PATCH":
        response = await client.patch(f"/notes/{note_id}", json={"pinned": True})
    assert_problem(response, 404)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": str(10**30)},
        {"limit": "-" + "9" * 5000},
        {"cursor": "c" * 5000},
        {"q": "word " * 200},
        {"q": "nul\x00"},
        {"tag": "t" * 51},
        {"tag": [f"t{i}" for i in range(21)]},
        {"sort": "x" * 5000},
        {"pinned": "x" * 5000},
    ],
    ids=["limit-huge", "limit-negative-huge", "cursor", "q-long", "q-nul", "tag-long", "tags-many", "sort", "pinned"],
)
async def test_out_of_range_list_parameters_are_422(client: httpx.AsyncClient, params: dict[str, object]) -> None:
    assert_problem(await client.get("/notes", params=params), 422)  # type: ignore[arg-type]


@pytest.mark.parametrize("if_match", ['"{id}-' + "9" * 5000 + '"', '"{id}-2147483648"', '"' + "9" * 5000 + '-1"'])
async def test_if_match_naming_versions_or_ids_that_cannot_exist_is_412(
    client: httpx.AsyncClient, if_match: str
) -> None:
    note = await create_note(client)
    header = {"If-Match": if_match.format(id=note["id"])}
    assert_problem(await client.patch(f"/notes/{note['id']}", json={"pinned": True}, headers=header), 412)
    assert_problem(await client.delete(f"/notes/{note['id']}", headers=header), 412)
    assert (await client.get(f"/notes/{note['id']}")).json() == note


async def test_an_if_none_match_of_any_size_is_only_a_miss(client: httpx.AsyncClient) -> None:
    note = await create_note(client)
    response = await client.get(f"/notes/{note['id']}", headers={"If-None-Match": '"' + "9" * 100_000 + '"'})
    assert response.status_code == 200


@pytest.mark.parametrize("token", ["x" * 100_000, "a.b." + "c" * 50_000, "eyJ" * 30_000])
async def test_an_oversized_bearer_token_is_401(anonymous: httpx.AsyncClient, token: str) -> None:
    assert_problem(await anonymous.get("/notes", headers={"Authorization": f"Bearer {token}"}), 401)


async def test_a_bulk_create_with_an_oversized_value_is_422_and_writes_nothing(client: httpx.AsyncClient) -> None:
    notes = [note_payload(title=f"n{i}") for i in range(10)] + [note_payload(tags=["t" * 5000])]
    assert_problem(await client.post("/notes/bulk", json={"notes": notes}), 422)
    assert await Note.all().count() == 0


async def test_a_value_that_reaches_the_orm_unchecked_is_a_logged_422_not_a_500(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # The last line of defence, for a bound someone forgot: a route that compares a request value with
    # a column it cannot fit, as POST /auth/token once did.
    app: FastAPI = create_app(settings)

    async def unchecked(username: str) -> None:
        await User.get_or_none(username=username)

    app.add_api_route("/unchecked", unchecked)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notes.test") as http:
        with caplog.at_level(logging.ERROR, logger="notes_app.errors"):
            response = await http.get("/unchecked", params={"username": "x" * 5000})

    problem = assert_problem(response, 422)
    assert "x" * 50 not in response.text
    assert problem["detail"]
    [record] = [record for record in caplog.records if record.name == "notes_app.errors"]
    assert record.exc_info is not None
    assert "/unchecked" in record.getMessage()


def declared_routes(routes: list[object]) -> list[object]:
    """Every route of the app, through the routers it includes (FastAPI 0.165 nests them)."""
    found: list[object] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found.extend(declared_routes(included.routes) if included is not None else [route])
    return found


def test_every_path_parameter_of_the_app_is_bounded_before_it_is_parsed(settings: Settings) -> None:
    # Starlette's `int` convertor hands any run of digits to int() (a 500 past 4,300 digits): every id
    # in a path uses the bounded `id` convertor (notes_app/path_ids.py) instead.
    convertors = {
        (getattr(route, "path", "?"), name): type(convertor).__name__
        for route in declared_routes(create_app(settings).router.routes)
        for name, convertor in getattr(route, "param_convertors", {}).items()
    }
    assert convertors
    assert {where: kind for where, kind in convertors.items() if kind != "IdConvertor"} == {}
