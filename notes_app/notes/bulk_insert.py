"""Many new notes in one INSERT per batch, with the ids the database gave them.

Tortoise's `bulk_create` neither returns ids (which the answer and every trace of the change need) nor
sends one statement: it runs the single-row INSERT once per note. Here Tortoise's own query builder
writes a multi-row INSERT (its quoting, its placeholders for the dialect) and the values are converted
by each field's `to_db_value`, exactly as `Model.save` converts them; only `RETURNING "id"` is added.
Private APIs (`_meta`, `query_class`): safe while tortoise-orm is pinned below 1.2.
"""

from collections.abc import Sequence

from pypika_tortoise.terms import Parameter
from tortoise import BaseDBAsyncClient

from notes_app.notes.models import Note

# Rows per statement: 9 parameters each, well under SQLite's and PostgreSQL's 32,766/32,767 limits.
BATCH_SIZE = 500


def _columns() -> list[str]:
    # Every field the model writes on insert, without the generated id (PostgreSQL's generated
    # search_vector is no field) and without fields the database fills by its own default (the change
    # feed's change_seq: a new note holds a DatabaseDefault placeholder there, which has no column value).
    # Read when used: foreign key columns (owner_id) join the model's meta only when Tortoise
    # initialises the models.
    return [
        name
        for name, field in ((name, Note._meta.fields_map[name]) for name in Note._meta.fields_db_projection)
        if not field.generated and not field.has_db_default()
    ]


# Built once per dialect and row count (every batch but the last has BATCH_SIZE rows): building a
# 500-row statement with the query builder costs more than sending it.
_statements: dict[tuple[str, int, int], str] = {}


def _insert_statement(connection: BaseDBAsyncClient, columns: list[str], rows: int) -> str:
    key = (connection.capabilities.dialect, len(columns), rows)
    if (statement := _statements.get(key)) is None:
        statement = _statements[key] = _build_insert_statement(connection, columns, rows)
    return statement


def _build_insert_statement(connection: BaseDBAsyncClient, columns: list[str], rows: int) -> str:
    query = connection.query_class.into(Note._meta.basetable).columns(
        *(Note._meta.fields_db_projection[name] for name in columns)
    )
    for row in range(rows):
        first = row * len(columns)
        query = query.insert(*(Parameter(idx=first + column + 1) for column in range(len(columns))))
    return f'{query.get_sql()} RETURNING "id"'


async def insert_notes(*, connection: BaseDBAsyncClient, notes: Sequence[Note]) -> None:
    """INSERT the unsaved `notes`, BATCH_SIZE per statement, and give each its id."""
    columns = _columns()
    fields = [Note._meta.fields_map[name] for name in columns]
    for start in range(0, len(notes), BATCH_SIZE):
        batch = notes[start : start + BATCH_SIZE]
        parameters = [
            field.to_db_value(getattr(note, name), note)
            for note in batch
            for name, field in zip(columns, fields, strict=True)
        ]
        sql = _insert_statement(connection, columns, len(batch))
        # execute_query_dict: the asyncpg client's execute_query drops the rows of an INSERT.
        rows = await connection.execute_query_dict(sql, parameters)
        # Neither database promises RETURNING's row order, but both number the rows of one statement
        # in the order of its VALUES (one sequence or rowid, taken row by row, ascending), so the
        # sorted ids are the rows' ids in input order.
        for note, note_id in zip(batch, sorted(row["id"] for row in rows), strict=True):
            note.id = note_id
            note._saved_in_db = True
