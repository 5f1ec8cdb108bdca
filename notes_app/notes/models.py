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

    class Meta:
        table = "note"
        # Every list is one owner's notes, archived or not (`archived` is always a filter, false by
        # default), in one of four orders: each page is a scan of one of these indexes from the cursor,
        # forwards or backwards, that stops after `limit` rows however deep the page. The owner prefix
        # also serves the foreign key. Text search and the tag filter have indexes that the models
        # cannot describe, made by hand-written migrations (`migrations/*/models/*_search.py`).
        indexes = (
            ("owner_id", "archived", "updated_at", "id"),
            ("owner_id", "archived", "created_at", "id"),
        )
