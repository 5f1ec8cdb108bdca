from tortoise import fields
from tortoise.models import Model

from notes_app.users.models import User

# `id` is a 32-bit integer column (SERIAL / INTEGER): a larger id names no note, and PostgreSQL
# rejects it as a query parameter, so callers check the range before querying.
MAX_NOTE_ID = 2**31 - 1
MAX_VERSION = 2**31 - 1  # `version` is a 32-bit column too


class Note(Model):
    id = fields.IntField(primary_key=True)
    # Set from the access token, never from a request body. Deleting an account deletes its notes.
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notes", on_delete=fields.CASCADE, db_index=False
    )
    owner_id: int
    title = fields.CharField(max_length=200)
    body = fields.TextField(default="")
    # Normalised, de-duplicated and sorted by the input schemas. One JSON value per note (jsonb on
    # PostgreSQL) keeps a note one row: a read is one indexed lookup with no join or aggregation, and
    # "carries all of these tags" is `tags @> '[...]'`, which a GIN index on the jsonb answers
    # without scanning. A tag table would cost a join on every read and a transaction on every write.
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    pinned = fields.BooleanField(default=False)
    archived = fields.BooleanField(default=False)
    version = fields.IntField(default=1)
    # Set by the service, not by auto_now: a no-op update must leave updated_at alone, and a new
    # note's created_at and updated_at are the same instant.
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    # Set when the note goes to the trash; NULL while it is live. Every v1 read and write path asks for
    # `deleted_at IS NULL`, so a trashed note is gone from them all until it is restored or purged.
    deleted_at = fields.DatetimeField(null=True)
    # The owner's change number of the note's latest change (notes_app/sync/recorder.py): the change feed
    # reads one owner's notes past a (change_seq, id) position. 0 only before the first change is recorded.
    # A default in the database too: the migration that added it filled existing notes with 0.
    change_seq = fields.BigIntField(db_default=0)

    class Meta:
        table = "note"
        # Every list is one owner's notes, archived or not (`archived` is always a filter, false by
        # default), in one of four orders: each page is a scan of one of these indexes from the cursor,
        # forwards or backwards, that stops after `limit` rows however deep the page. The owner prefix
        # also serves the foreign key. Text search and the tag filter have indexes that the models
        # cannot describe, made by hand-written migrations (`migrations/*/models/*_search.py`).
        #
        # The two listing indexes (and the search index) hold only live notes: the trash migration
        # (`migrations/*/models/*_trash.py`) makes them partial, `WHERE deleted_at IS NULL`, which
        # Tortoise's index classes cannot spell (PartialIndex only writes `column = value`). The third
        # holds every note: the trash of one owner, most recently deleted first, and the foreign key
        # (a cascade from a deleted account must find trashed notes too, which a partial index misses).
        indexes = (
            ("owner_id", "archived", "updated_at", "id"),
            ("owner_id", "archived", "created_at", "id"),
            ("owner_id", "deleted_at", "id"),
            ("owner_id", "change_seq", "id"),
        )


class NoteRevision(Model):
    """The state one version of a note had: written in the same transaction as the change that made
    that version (notes_app/notes/changes.py), so every version a client was answered with is here."""

    id = fields.BigIntField(primary_key=True)
    # Revisions go with their note: deleting it for good (or its account) deletes them.
    note: fields.ForeignKeyRelation[Note] = fields.ForeignKeyField(
        "models.Note", related_name="revisions", on_delete=fields.CASCADE, db_index=False
    )
    note_id: int
    version = fields.IntField()
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    tags: fields.Field[list[str]] = fields.JSONField()
    pinned = fields.BooleanField()
    archived = fields.BooleanField()
    # When this version was written: the note's updated_at at this version.
    created_at = fields.DatetimeField()

    class Meta:
        table = "note_revision"
        # One row per version, whatever races: the constraint would refuse a second writer of one
        # version. Its index also serves every read (a note's revisions, newest first, or one
        # version) and the foreign key.
        unique_together = (("note_id", "version"),)
