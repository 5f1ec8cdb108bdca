"""UPDATE and DELETE statements that hand back the rows they wrote (`RETURNING`), on both databases.

A change must leave its revision (and any other trace) in the same transaction, and needs the note as
it wrote it to do so. RETURNING gets that from the write itself: no second statement to read it back,
and no window in which another writer could have moved the note between the two.

Tortoise's queries cannot ask for RETURNING, so the statement is built by Tortoise's own query builder
(its filters, quoting and value conversion) and only the RETURNING clause is added before running it.
`_make_query`, `.query` and `._db` are private, as in notes_app/notes/compiled.py: safe while
tortoise-orm is pinned below 1.2.
"""

from functools import cache
from typing import Any

from tortoise.queryset import DeleteQuery, UpdateQuery

from notes_app.notes.models import Note


@cache
def note_columns() -> tuple[str, ...]:
    # Every column of the model, and only those (PostgreSQL's generated search_vector is not a field).
    # Read on first use, not at import: the foreign key's column (owner_id) joins db_fields only once
    # Tortoise has initialised the models, and a row without it would be hydrated as a partial model.
    return tuple(sorted(Note._meta.db_fields))


async def returning_notes(query: UpdateQuery | DeleteQuery) -> list[Note]:
    """Run the UPDATE or DELETE `query` and return the notes it wrote, as they are after it."""
    query._choose_db_if_not_chosen(True)  # the default connection's, unless `using_db` chose one
    query._make_query()
    # Both dialects' builders (PostgreSQL's and SQLite's) have returning(); the base type does not.
    builder: Any = query.query
    sql, parameters = builder.returning(*note_columns()).get_parameterized_sql()
    # execute_query_dict: Tortoise's asyncpg execute_query runs UPDATE and DELETE without fetching rows.
    rows = await query._db.execute_query_dict(sql, parameters)
    return [Note._init_from_db(**row) for row in rows]
