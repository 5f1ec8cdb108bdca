from tortoise import fields
from tortoise.models import Model

from notes_app.users.models import User

MAX_KEY_LENGTH = 255


class IdempotencyKey(Model):
    """A client's `Idempotency-Key` for one endpoint, and the answer its first request got.

    Inserted by the request that uses the key first, in the same transaction as what that request
    writes, and completed with its answer before that transaction commits: so the key is recorded if
    and only if the notes are. The unique constraint decides which of two racing requests owns a key.
    """

    id = fields.BigIntField(primary_key=True)
    # Keys are per caller: two users may use the same key. They go with the account.
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="idempotency_keys", on_delete=fields.CASCADE, db_index=False
    )
    owner_id: int
    endpoint = fields.CharField(max_length=50)
    key = fields.CharField(max_length=MAX_KEY_LENGTH)
    # SHA-256 (hex) of the request's content: the same key with another request is refused.
    fingerprint = fields.CharField(max_length=64)
    # The kept answer; NULL only inside the transaction of the request that owns the key.
    status = fields.SmallIntField(null=True)
    headers: fields.Field[dict[str, str]] = fields.JSONField(default=dict)
    body = fields.BinaryField(null=True)
    created_at = fields.DatetimeField()
    # After this the key is forgotten: purged by the background task, and free for reuse before that.
    expires_at = fields.DatetimeField()

    class Meta:
        table = "idempotency_key"
        # The constraint that decides; its owner prefix also serves the foreign key.
        unique_together = (("owner_id", "endpoint", "key"),)
        indexes = (("expires_at",),)
