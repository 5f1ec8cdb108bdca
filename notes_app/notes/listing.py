"""Listing notes: one owner's notes that pass the filters, one keyset page at a time, in one SQL statement.

Text search and the tag filter need SQL that the ORM's lookups cannot spell (a tsquery, FTS5's MATCH,
json_each), so each dialect gets its own condition here (`notes_app.sql.Sql`), combined with the ORM's
filters into the one WHERE clause, beside the condition that proves the caller's credential is alive.
"""

from dataclasses import dataclass

import orjson
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from notes_app.notes.models import Note
from notes_app.notes.pagination import Cursor, CursorSigner, Sort, SortName, cursor_key
from notes_app.replicas import read_connection
from notes_app.sql import Sql
from notes_app.users.credentials import Caller


def _fts5_query(text: str) -> str:
    # Each word becomes an FTS5 string ("word", quotes doubled): inside one, AND OR NOT NEAR * ^ : - ( )
    # are text, never syntax, and FTS5's tokenizer splits it as it split the notes. Strings side by
    # side must all match; a string with no word in it ("-") matches alongside the others.
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def _matches_text(text: str, dialect: str) -> Q:
    """Notes whose title or body holds every word of `text`."""
    if dialect == "postgres":
        # plainto_tsquery ANDs the words, reading none of them as an operator, with the configuration
        # that built search_vector (migrations/postgres/models/*_search.py), so the stems agree.
        return Sql('"note"."search_vector" @@ plainto_tsquery(\'english\', {})', text)
    return Sql('"note"."id" IN (SELECT "rowid" FROM "note_fts" WHERE "note_fts" MATCH {})', _fts5_query(text))


def _carries_tags(tags: tuple[str, ...], dialect: str) -> Q:
    """Notes that carry every one of `tags`."""
    if dialect == "postgres":
        return Q(tags__contains=list(tags))  # tags @> '[...]', which the owner's GIN index answers
    # SQLite has no index into JSON arrays: each candidate note's few tags are read where it is visited
    # in the owner's index, in page order, until the page is full.
    return Q(*(Sql('EXISTS (SELECT 1 FROM json_each("note"."tags") WHERE "value" = {})', tag) for tag in tags))


@dataclass(frozen=True)
class NoteFilters:
    """What a note must be to be listed. Every field is part of the list's identity, which cursors are
    signed for (notes_app/notes/dependencies.py)."""

    archived: bool = False
    pinned: bool | None = None
    # Normalised as note tags are, de-duplicated and sorted: every one must be carried.
    tags: tuple[str, ...] = ()
    # White space collapsed; every word must be in the title or the body.
    text: str | None = None

    def as_query(self, dialect: str) -> Q:
        conditions = [Q(archived=self.archived)]
        if self.pinned is not None:
            conditions.append(Q(pinned=self.pinned))
        if self.tags:
            conditions.append(_carries_tags(self.tags, dialect))
        if self.text is not None:
            conditions.append(_matches_text(self.text, dialect))
        return Q(*conditions)


def cursor_signer(*, signing_key: str, owner_id: int, sort: SortName, filters: NoteFilters) -> CursorSigner:
    """Signs cursors for one list: this owner's notes that pass `filters`, in `sort` order."""
    return CursorSigner(key=cursor_key(signing_key), listing=orjson.dumps([owner_id, sort, filters]))


def page_query(*, caller: Caller, filters: NoteFilters, sort: Sort, limit: int, after: Cursor | None) -> QuerySet[Note]:
    """The one statement that reads a page, and one note more: that one tells whether another page
    exists, without a COUNT. It finds notes only while the caller's session or token is alive."""
    dialect = Note._meta.db.capabilities.dialect
    # Live notes only; the listing and search indexes are partial on exactly this condition.
    query = (
        Note.filter(filters.as_query(dialect), caller.alive(), owner_id=caller.id, deleted_at__isnull=True)
        .order_by(*sort.order_by)
        .using_db(read_connection())  # a replica for GET when one is configured (notes_app/replicas.py)
    )
    if after is not None:
        query = query.filter(sort.after(after))
    return query.limit(limit + 1)
