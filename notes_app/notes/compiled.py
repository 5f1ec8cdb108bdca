"""GET /notes/{id}'s query, with its SQL built once instead of on every request.

Tortoise builds a query's SQL from its filters on every call: a quarter of the event loop's time on
GET /notes/{id} (py-spy; see bench/RESULTS.md). Here Tortoise's own query builder writes the
statement once per database dialect (its quoting, its placeholders, every column of the model, so it
follows the model as it changes), and each request only runs it with fresh parameters through
Tortoise's connection (its pool) and hydrates the row with the model's own `_init_from_db` (what
Tortoise's executor calls, so every field converts as it would through the ORM).
Upstream, compiled queries (tortoise-orm PR #2131) would make this module unnecessary.
"""

from tortoise import BaseDBAsyncClient

from notes_app.notes.models import Note

# Placeholder values whose positions in the builder's parameter list show where each real value goes.
_ID, _OWNER = -7_000_001, -7_000_002

_select_owned_note: dict[str, str] = {}


def _compile_select_owned_note(connection: BaseDBAsyncClient) -> str:
    query = Note.filter(id=_ID, owner_id=_OWNER).using_db(connection).limit(1)
    query._make_query()
    sql, parameters = query.query.get_parameterized_sql()
    # Fail loudly, not wrongly, if a Tortoise upgrade ever orders the parameters differently.
    if parameters != [_ID, _OWNER, 1]:
        raise RuntimeError(f"unexpected parameters from Tortoise's query builder: {parameters!r}")
    return sql


async def select_owned_note(*, note_id: int, owner_id: int) -> Note | None:
    connection = Note._meta.db
    dialect = connection.capabilities.dialect
    if (sql := _select_owned_note.get(dialect)) is None:
        sql = _select_owned_note[dialect] = _compile_select_owned_note(connection)
    _, rows = await connection.execute_query(sql, [note_id, owner_id, 1])
    return Note._init_from_db(**rows[0]) if rows else None
