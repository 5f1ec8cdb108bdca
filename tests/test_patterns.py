"""The OpenAPI document's patterns mean, to an ECMA-262 reader, exactly what the server accepts.

OpenAPI 3.1 patterns are ECMA-262 regular expressions (read with the `u` flag): `\\w` there is ASCII,
and `\\s` is another set than Python's. Clients and generators (schemathesis among them) read the
document that way, so each pattern is checked here with an ECMA-262 engine (jsonschema-rs, the one
schemathesis validates with) against the server's own validation, on every assigned code point.
Lone surrogates are refused too (tests/notes/test_validation.py), which no pattern can say: such a
string is not Unicode text.
"""

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema_rs
import pytest
from pydantic import BaseModel, ValidationError

from notes_app.main import create_app
from notes_app.notes.schemas import NoteCreate
from notes_app.users.schemas import PasswordChange, PersonalTokenCreate, UserCreate
from tests.conftest import note_payload

# Code points the server's Unicode database (Python's unicodedata) assigns. An ECMA-262 engine may
# know a newer Unicode version: characters assigned after Python's are the only place the two may
# disagree, and no client can expect a server to know characters newer than its Unicode version.
ASSIGNED = [
    chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF and unicodedata.category(chr(code)) != "Cn"
]
# Escapes that mean one thing to Python's `re` and another to ECMA-262.
DIALECT_DEPENDENT = re.compile(r"\\[sSwWdDbB]")


def document_patterns() -> Iterator[tuple[str, str]]:
    def walk(node: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                yield where, node["pattern"]
            for key, value in node.items():
                yield from walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{where}/{index}")

    yield from walk(create_app().openapi(), "")


def test_no_pattern_in_the_document_uses_an_escape_whose_meaning_depends_on_the_dialect() -> None:
    patterns = list(document_patterns())
    assert patterns
    for where, pattern in patterns:
        assert not DIALECT_DEPENDENT.search(pattern), (where, pattern)
        jsonschema_rs.validator_for({"type": "string", "pattern": pattern})  # valid ECMA-262


def field_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema()["properties"][name]
    return schema["items"] if schema.get("type") == "array" else schema


def accepts(model: type[BaseModel], payload: dict[str, Any]) -> bool:
    try:
        model.model_validate(payload)
    except ValidationError:
        return False
    return True


# (model, field, payload for a value, ways to place each code point in a value)
CASES: list[tuple[type[BaseModel], str, Callable[[str], dict[str, Any]], list[Callable[[str], str]]]] = [
    (
        NoteCreate,
        "tags",
        lambda tag: note_payload(tags=[tag]),
        [lambda c: c, lambda c: f"a{c}b", lambda c: f"{c}a{c}", lambda c: c * 51],
    ),
    (NoteCreate, "title", lambda title: note_payload(title=title), [lambda c: c, lambda c: f"{c}a b{c}"]),
    (NoteCreate, "body", lambda body: note_payload(body=body), [lambda c: f"a{c}"]),
    (
        UserCreate,
        "password",
        lambda password: {"username": "alice", "password": password},
        [lambda c: f"password{c}"],
    ),
    (
        PersonalTokenCreate,
        "name",
        lambda name: {"name": name, "scopes": ["notes:read"]},
        [lambda c: c, lambda c: f"{c}a b{c}"],
    ),
    (
        PasswordChange,
        "new_password",
        lambda password: {"current_password": "x", "new_password": password},
        [lambda c: f"password{c}"],
    ),
]


@pytest.mark.parametrize(("model", "field", "payload", "placements"), CASES, ids=[case[1] for case in CASES])
def test_the_documented_pattern_accepts_exactly_what_validation_accepts_on_every_code_point(
    model: type[BaseModel],
    field: str,
    payload: Callable[[str], dict[str, Any]],
    placements: list[Callable[[str], str]],
) -> None:
    ecma = jsonschema_rs.validator_for({"type": "string", **field_schema(model, field)})
    disagreements = [
        (f"U+{ord(character):04X}", value)
        for place in placements
        for character in ASSIGNED
        if ecma.is_valid(value := place(character)) != accepts(model, payload(value))
    ]
    assert disagreements == []


def test_tags_are_letters_and_digits_of_any_script() -> None:
    assert NoteCreate.model_validate(note_payload(tags=["日本", "Ελλάδα", "õ룺", "٣٤", "x_y-z/w"])).tags == sorted(
        ["日本", "ελλάδα", "õ룺", "٣٤", "x_y-z/w"]
    )


def test_a_stored_tag_is_a_valid_tag_that_stores_as_itself() -> None:
    # Lower-casing and NFC could turn a letter into a letter plus a combining mark ("İ"): a tag the
    # server stored must still be one it accepts, unchanged, when a client sends it back.
    changed = []
    for character in ASSIGNED:
        if unicodedata.category(character)[0] not in "LN":
            continue
        [stored] = NoteCreate.model_validate(note_payload(tags=[character])).tags
        if len(stored) != 1 or NoteCreate.model_validate(note_payload(tags=[stored])).tags != [stored]:
            changed.append(f"U+{ord(character):04X}")
    assert changed == []
