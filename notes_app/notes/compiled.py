"""GET /notes/{id}'s query, with its SQL built once instead of on every request.

Tortoise builds a query's SQL from its filters on every call: a quarter of the event loop's time on
GET /notes/{id} (py-spy; see bench/RESULTS.md). Here Tortoise's own query builder writes the
statement once per database dialect and kind of credential (its quoting, its placeholders, every column
of the model, so it follows the model as it changes), and each request only runs it with fresh
parameters through Tortoise's connection (its pool) and hydrates the row with the model's own
`_init_from_db` (what Tortoise's executor calls, so every field converts as it would through the ORM).
Upstream, compiled queries (tortoise-orm PR #2131) would make this module unnecessary.
"""

from tortoise import BaseDBAsyncClient

from notes_app.notes.models import Note
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


async def select_owned_note(*, note_id: int, caller: Caller) -> Note | None:
    # A replica for GET when one is configured and fresh enough (notes_app/replicas.py); else the primary.
    connection = read_connection() or Note._meta.db
    key = (connection.capabilities.dialect, caller.session_id is not None)
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
    return Note._init_from_db(**rows[0]) if rows else None
