"""GET /notes/{id}'s query and GET /notes' page query, with their SQL built once instead of on every request.

Tortoise builds a query's SQL from its filters on every call: a quarter of the event loop's time on
GET /notes/{id} (py-spy; see bench/RESULTS.md). Here Tortoise's own query builder writes the
statement once per database dialect and kind of credential (its quoting, its placeholders, every column
of the model, so it follows the model as it changes), and each request only runs it with fresh
parameters through Tortoise's connection (its pool) and hydrates the row with the model's own
`_init_from_db` (what Tortoise's executor calls, so every field converts as it would through the ORM).
Upstream, compiled queries (tortoise-orm PR #2131) would make this module unnecessary.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from notes_app.notes.listing import NoteFilters, page_query
from notes_app.notes.models import Note
from notes_app.notes.pagination import Cursor, Sort, SortName
from notes_app.notes.schemas import PUBLIC_NOTE_FIELDS
from notes_app.replicas import read_connection
from notes_app.users.credentials import Caller

# Placeholder values: where each lands in the builder's parameter list shows where each real value goes.
_ID, _OWNER, _SESSION = -7_000_001, -7_000_002, -7_000_003
_TOKEN_HASH = "placeholder-token-hash"

# (dialect, credential kind) -> (SQL, its parameters as placeholders)
_select_owned_note: dict[tuple[str, bool], tuple[str, list[object]]] = {}


def _compile_select_owned_note(connection: BaseDBAsyncClient, *, session: bool) -> tuple[str, list[object]]:
    # The note, found only while the caller's session or token is alive: one statement proves both.
    caller = Caller(
        id=_OWNER,
        session_id=_SESSION if session else None,
        personal_token_hash=None if session else _TOKEN_HASH,
        can_write=False,
    )
    # Live notes only: a trashed note is as missing as one that never existed.
    query = Note.filter(caller.alive(), id=_ID, owner_id=_OWNER, deleted_at__isnull=True).using_db(connection).limit(1)
    query._make_query()
    sql, parameters = query.query.get_parameterized_sql()
    # Fail loudly, not wrongly, if a Tortoise upgrade ever renders a value we did not place.
    if not set(parameters) <= {_ID, _OWNER, _SESSION, _TOKEN_HASH, 1} or _ID not in parameters:
        raise RuntimeError(f"unexpected parameters from Tortoise's query builder: {parameters!r}")
    return sql, list(parameters)


async def select_owned_note_row(*, note_id: int, caller: Caller) -> tuple[str, Mapping[str, Any] | None]:
    """The caller's live note as the driver returns its row (every column of the model), or None; and the
    dialect it comes from, which says what types the row's values have."""
    # A replica for GET when one is configured and fresh enough (notes_app/replicas.py); else the primary.
    connection = read_connection() or Note._meta.db
    dialect = connection.capabilities.dialect
    key = (dialect, caller.session_id is not None)
    if (compiled := _select_owned_note.get(key)) is None:
        compiled = _select_owned_note[key] = _compile_select_owned_note(connection, session=key[1])
    sql, placeholders = compiled
    values: dict[object, object] = {
        _ID: note_id,
        _OWNER: caller.id,
        _SESSION: caller.session_id,
        _TOKEN_HASH: caller.personal_token_hash,
        1: 1,
    }
    _, rows = await connection.execute_query(sql, [values[placeholder] for placeholder in placeholders])
    return dialect, rows[0] if rows else None


async def select_owned_note(*, note_id: int, caller: Caller) -> Note | None:
    _, row = await select_owned_note_row(note_id=note_id, caller=caller)
    return Note._init_from_db(**row) if row is not None else None


@dataclass(frozen=True, slots=True)
class _PageValues:
    """What a page statement's parameters are taken from."""

    caller: Caller
    limit: int
    after: Cursor | None


# More placeholders, for a page: each stands for a value that changes from request to request.
_LIMIT, _AFTER_ID = 7_000_004, -7_000_005
_AFTER_VALUE = datetime(1970, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
_PAGE_VALUES: dict[object, Callable[[_PageValues], object]] = {
    _OWNER: lambda page: page.caller.id,
    _SESSION: lambda page: page.caller.session_id,
    _TOKEN_HASH: lambda page: page.caller.personal_token_hash,
    _LIMIT: lambda page: page.limit + 1,
    _AFTER_ID: lambda page: page.after.id if page.after else None,
    _AFTER_VALUE: lambda page: page.after.value if page.after else None,
}
# Where each parameter of a page statement comes from.
_Slot = Callable[[_PageValues], object]

# (dialect, session credential?, sort, after a cursor?, archived, pinned) -> (SQL, one slot per parameter)
_select_page: dict[tuple[str, bool, SortName, bool, bool, bool | None], tuple[str, list[_Slot]]] = {}


def _slot(parameter: object) -> _Slot:
    # type() first: True == 1 and False == 0 would find an int placeholder's entry otherwise.
    if type(parameter) is bool:
        # One of the filters' booleans: part of the statement's shape, so kept as the builder wrote it.
        return lambda _: parameter
    if type(parameter) in (int, str, datetime) and parameter in _PAGE_VALUES:
        return _PAGE_VALUES[parameter]
    # Fail loudly, not wrongly, if a Tortoise upgrade ever renders a value we did not place.
    raise RuntimeError(f"unexpected parameter from Tortoise's query builder: {parameter!r}")


def _answered_fields(query: QuerySet[Note]) -> QuerySet[Note]:
    # Only the columns the page answers (its cursor's sort key among them): not owner_id, deleted_at or
    # change_seq, which the conditions need but no row does, for 51 rows a page.
    return query.only(*PUBLIC_NOTE_FIELDS)


def _compile_select_page(
    connection: BaseDBAsyncClient, *, session: bool, sort: Sort, after: bool, filters: NoteFilters
) -> tuple[str, list[_Slot]]:
    caller = Caller(
        id=_OWNER,
        session_id=_SESSION if session else None,
        personal_token_hash=None if session else _TOKEN_HASH,
        can_write=False,
    )
    cursor = Cursor(value=_AFTER_VALUE, id=_AFTER_ID) if after else None
    query = _answered_fields(page_query(caller=caller, filters=filters, sort=sort, limit=_LIMIT - 1, after=cursor))
    query = query.using_db(connection)
    query._make_query()
    sql, parameters = query.query.get_parameterized_sql()
    return sql, [_slot(parameter) for parameter in parameters]


async def select_page(
    *, caller: Caller, filters: NoteFilters, sort: Sort, limit: int, after: Cursor | None
) -> tuple[str, Sequence[Any]]:
    """The rows of a page (`listing.page_query`'s statement: the page and one note more), and the
    dialect they come from. Pages filtered by tags or text take the ORM's statement as it is: their
    shapes are many, and their cost is the search's, not the SQL's."""
    connection = read_connection() or Note._meta.db
    dialect = connection.capabilities.dialect
    if filters.tags or filters.text is not None:
        query = _answered_fields(page_query(caller=caller, filters=filters, sort=sort, limit=limit, after=after))
        query = query.using_db(connection)
        query._make_query()
        sql, parameters = query.query.get_parameterized_sql()
        _, rows = await connection.execute_query(sql, list(parameters))
        return dialect, rows
    key = (dialect, caller.session_id is not None, sort.name, after is not None, filters.archived, filters.pinned)
    if (compiled := _select_page.get(key)) is None:
        compiled = _select_page[key] = _compile_select_page(
            connection, session=key[1], sort=sort, after=key[3], filters=filters
        )
    sql, slots = compiled
    page = _PageValues(caller=caller, limit=limit, after=after)
    values = [slot(page) for slot in slots]
    _, rows = await connection.execute_query(sql, values)
    return dialect, rows
