"""GET /notes?q=: full-text search over title and body, the same promises on both databases.

Tortoise's own `__search` lookup is silently ignored on SQLite (it returns every note), so each of
these runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from typing import Any

import httpx
import pytest

from tests.conftest import assert_problem
from tests.conftest import create_note as create_any_note


async def create_note(client: httpx.AsyncClient, title: str, body: str = "", **fields: Any) -> dict[str, Any]:
    """A note with exactly these words: no body unless one is given."""
    return await create_any_note(client, title=title, body=body, **fields)


async def search(client: httpx.AsyncClient, q: str, **params: Any) -> list[str]:
    """The titles of every note that `q` finds, across all pages."""
    titles: list[str] = []
    query: dict[str, Any] = {"q": q, "limit": 100, **params}
    response = await client.get("/notes", params=query)
    assert response.status_code == 200, response.text
    page = response.json()
    titles += [note["title"] for note in page["items"]]
    assert page["next_cursor"] is None
    return titles


async def test_a_word_finds_the_notes_that_hold_it_in_title_or_body(client: httpx.AsyncClient) -> None:
    await create_note(client, title="Groceries", body="milk and eggs")
    await create_note(client, title="Milk prices", body="rising")
    await create_note(client, title="Bank", body="pay the rent")

    assert sorted(await search(client, "milk")) == ["Groceries", "Milk prices"]


@pytest.mark.parametrize("q", ["MILK", "Milk", "mIlK"])
async def test_search_ignores_case(client: httpx.AsyncClient, q: str) -> None:
    await create_note(client, title="groceries", body="milk")
    await create_note(client, title="SHOUTING MILK")

    assert sorted(await search(client, q)) == ["SHOUTING MILK", "groceries"]


async def test_search_ignores_case_beyond_ascii(client: httpx.AsyncClient) -> None:
    await create_note(client, title="ÜBER CAFÉ")

    assert await search(client, "über café") == ["ÜBER CAFÉ"]


async def test_every_word_must_match(client: httpx.AsyncClient) -> None:
    await create_note(client, title="milk", body="eggs")
    await create_note(client, title="milk only")
    await create_note(client, title="eggs only")

    assert await search(client, "eggs milk") == ["milk"]
    assert await search(client, "milk eggs flour") == []


@pytest.mark.parametrize(("written", "searched"), [("running", "run"), ("run", "running"), ("dogs", "dog")])
async def test_search_matches_word_stems(client: httpx.AsyncClient, written: str, searched: str) -> None:
    # PostgreSQL's English configuration and SQLite's porter tokenizer both stem English words.
    await create_note(client, title="morning", body=f"{written} in the park")

    assert await search(client, searched) == ["morning"]


async def test_words_are_matched_whole_not_as_parts_of_other_words(client: httpx.AsyncClient) -> None:
    await create_note(client, title="pineapple", body="carpet")

    assert await search(client, "apple") == []
    assert await search(client, "car") == []


async def test_a_replaced_note_is_found_by_its_new_words_only(client: httpx.AsyncClient) -> None:
    note = await create_note(client, title="walrus", body="tusks")

    await client.put(f"/notes/{note['id']}", json={"title": "penguin", "body": "flippers"})

    assert await search(client, "walrus") == []
    assert await search(client, "tusks") == []
    assert await search(client, "penguin flippers") == ["penguin"]


@pytest.mark.parametrize(("field", "old", "kept"), [("title", "walrus", "tusks"), ("body", "tusks", "walrus")])
async def test_a_patched_note_is_found_by_its_new_words_only(
    client: httpx.AsyncClient, field: str, old: str, kept: str
) -> None:
    note = await create_note(client, title="walrus", body="tusks")

    await client.patch(f"/notes/{note['id']}", json={field: "penguin"})

    assert len(await search(client, "penguin")) == 1
    assert await search(client, old) == []
    assert len(await search(client, kept)) == 1


async def test_a_patch_of_other_fields_keeps_the_note_findable(client: httpx.AsyncClient) -> None:
    note = await create_note(client, title="walrus")

    await client.patch(f"/notes/{note['id']}", json={"pinned": True, "tags": ["zoo"]})

    assert await search(client, "walrus") == ["walrus"]


async def test_a_deleted_note_is_no_longer_found(client: httpx.AsyncClient) -> None:
    gone = await create_note(client, title="walrus one")
    await create_note(client, title="walrus two")

    await client.delete(f"/notes/{gone['id']}")

    assert await search(client, "walrus") == ["walrus two"]


async def test_search_never_finds_another_users_notes(client: httpx.AsyncClient, bob_client: httpx.AsyncClient) -> None:
    await create_note(client, title="alice's walrus")
    await create_note(bob_client, title="bob's walrus")

    assert await search(client, "walrus") == ["alice's walrus"]
    assert await search(bob_client, "walrus") == ["bob's walrus"]


async def test_search_combines_with_tags_pinned_archived_and_sort(client: httpx.AsyncClient) -> None:
    await create_note(client, title="walrus a", tags=["zoo"], pinned=True)
    await create_note(client, title="walrus b", tags=["zoo"], pinned=True)
    await create_note(client, title="walrus c", tags=["zoo"], pinned=False)
    await create_note(client, title="walrus d", tags=["sea"], pinned=True)
    await create_note(client, title="walrus e", tags=["zoo"], pinned=True, archived=True)
    await create_note(client, title="penguin", tags=["zoo"], pinned=True)

    found = await search(client, "walrus", tag="zoo", pinned="true", sort="created_at")

    assert found == ["walrus a", "walrus b"]
    assert await search(client, "walrus", tag="zoo", archived="true") == ["walrus e"]


async def test_search_results_page_with_cursors(client: httpx.AsyncClient) -> None:
    for i in range(5):
        await create_note(client, title=f"walrus {i}")
        await create_note(client, title=f"penguin {i}")
    titles: list[str] = []
    params: dict[str, Any] = {"q": "walrus", "limit": 2}
    while True:
        page = (await client.get("/notes", params=params)).json()
        titles += [note["title"] for note in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert titles == [f"walrus {i}" for i in reversed(range(5))]


async def search_pages(client: httpx.AsyncClient, q: str, limit: int, *, at_most: int = 50) -> list[dict[str, Any]]:
    """Every page of a search, first to last; a walk that never ends (a cursor that does not move on)
    fails after `at_most` pages."""
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"q": q, "limit": limit}
    while len(pages) < at_most:
        response = await client.get("/notes", params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if pages[-1]["next_cursor"] is None:
            return pages
        params["cursor"] = pages[-1]["next_cursor"]
    raise AssertionError(f"more than {at_most} pages: {[note['id'] for page in pages for note in page['items']]}")


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
async def test_search_pages_split_notes_of_one_instant_and_list_each_once(
    client: httpx.AsyncClient, limit: int
) -> None:
    # POST /notes/bulk writes its notes at one instant: they share updated_at, so only their ids order
    # them, and a page may end in the middle of them: the cursor's id tie-break must carry the next page.
    older = await create_note(client, title="walrus older")
    batch = [{"title": f"walrus {i}"} for i in range(6)] + [{"title": "penguin"}]
    created = (await client.post("/notes/bulk", json={"notes": batch})).json()["items"]
    newer = await create_note(client, title="walrus newer")
    assert len({note["updated_at"] for note in created}) == 1
    tied = sorted((note["id"] for note in created if note["title"] != "penguin"), reverse=True)

    pages = await search_pages(client, "walrus", limit)

    assert [note["id"] for page in pages for note in page["items"]] == [newer["id"], *tied, older["id"]]
    assert all(len(page["items"]) == limit for page in pages[:-1])


@pytest.mark.parametrize("q", ["", " ", "   \t  "])
async def test_an_empty_or_blank_q_lists_every_note(client: httpx.AsyncClient, q: str) -> None:
    await create_note(client, title="walrus")
    await create_note(client, title="penguin")

    assert sorted(await search(client, q)) == ["penguin", "walrus"]


async def test_q_of_500_characters_is_searched_and_501_is_422(client: httpx.AsyncClient) -> None:
    await create_note(client, title="walrus")
    longest = " ".join(["walrus"] * 71).ljust(500)

    assert await search(client, longest) == ["walrus"]
    problem = assert_problem(await client.get("/notes", params={"q": longest + "s"}), 422)
    assert problem["errors"][0]["loc"] == ["query", "q"]


async def test_q_with_nul_is_422(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get("/notes", params={"q": "walrus\x00"}), 422)
    assert problem["errors"][0]["loc"] == ["query", "q"]


# Search syntax is never syntax: quotes, operators and punctuation are only text.


@pytest.mark.parametrize(
    "q",
    [
        '"walrus"',
        "'walrus'",
        "walrus*",
        "*walrus",
        "-walrus",
        "walrus:",
        "(walrus)",
        "walrus)",
        "^walrus",
        "walrus!",
        '"walrus',
        "walrus & |",
        "walrus <-> !",
        "walrus \\",
        "walrus %_",
        "walrus'); --",
        "{walrus}",
        "walrus ..",
        'walrus " "',
    ],
)
async def test_punctuation_and_quotes_are_text_never_syntax(client: httpx.AsyncClient, q: str) -> None:
    await create_note(client, title="walrus")
    await create_note(client, title="penguin")

    assert await search(client, q) == ["walrus"]


@pytest.mark.parametrize(
    "q",
    [
        "walrus AND penguin",
        "walrus OR penguin",
        "walrus NOT penguin",
        "NEAR(walrus penguin)",
        "walrus + penguin",
        "title:walrus penguin",
    ],
)
async def test_operator_words_are_not_operators(client: httpx.AsyncClient, q: str) -> None:
    # As operators, "walrus OR penguin" would find all three notes, "walrus NOT penguin" the first,
    # and the column filter "title:walrus" the first; as words, only the note that holds them all.
    await create_note(client, title="walrus")
    await create_note(client, title="penguin")
    await create_note(client, title="walrus and penguin", body="title walrus, or not near walrus")

    assert await search(client, q) == ["walrus and penguin"]


@pytest.mark.parametrize("q", ["' OR 1=1 --", "walrus'; DROP TABLE note; --", '") OR rowid > 0 --', "1 OR 1"])
async def test_sql_in_q_is_only_words_to_look_for(client: httpx.AsyncClient, q: str) -> None:
    await create_note(client, title="walrus")

    assert await search(client, q) == []
    assert await search(client, "walrus") == ["walrus"]


@pytest.mark.parametrize("q", ["!!!", "*", '"', "-", "()", "&|!", "'"])
async def test_q_without_a_word_finds_nothing(client: httpx.AsyncClient, q: str) -> None:
    await create_note(client, title="walrus", body="!!! * \" - () &|! '")

    assert await search(client, q) == []
