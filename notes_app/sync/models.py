"""The change feed's counter and tombstones, and webhooks with their outbox."""

from tortoise import fields
from tortoise.models import Model

from notes_app.users.models import User


class ChangeCounter(Model):
    """One row per owner: the last change number handed out (see the recorder module).

    A table of its own rather than a column of `user`, so the row every writer of one owner locks is
    not the row every request of that owner reads to authenticate or manage the account.
    """

    id = fields.IntField(primary_key=True)
    owner: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="change_counter", on_delete=fields.CASCADE
    )
    owner_id: int
    seq = fields.BigIntField(default=0)
    # The last feed position (change number, note id) among tombstones pruned after
    # TOMBSTONE_RETENTION_DAYS: a cursor before it may have missed a deletion, so it is refused (410)
    # instead of answered incompletely.
    pruned_through = fields.BigIntField(default=0)
    pruned_note_id = fields.IntField(default=0)

    class Meta:
        table = "change_counter"


class NoteTombstone(Model):
    """A note deleted for good (purged), as the feed reports it: its id and the change that removed it.
    Kept TOMBSTONE_RETENTION_DAYS, then pruned."""

    # The deleted note's id: ids are never reused, so it stays unique here. Not a foreign key: the note is gone.
    note_id = fields.IntField(primary_key=True, generated=False)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="note_tombstones", on_delete=fields.CASCADE, db_index=False
    )
    owner_id: int
    change_seq = fields.BigIntField()
    deleted_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "note_tombstone"
        # The feed reads one owner's tombstones after a (change_seq, note_id) position.
        indexes = (("owner_id", "change_seq", "note_id"),)


class Webhook(Model):
    id = fields.IntField(primary_key=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="webhooks", on_delete=fields.CASCADE
    )
    owner_id: int
    url = fields.CharField(max_length=2048)
    # A bit set of the subscribed event types (notes_app/sync/events.py): the outbox insert tests it
    # with one `&` on both databases.
    events = fields.IntField()
    # The Standard Webhooks secret (`whsec_` + base64). Kept as is: signing needs the secret itself,
    # so it cannot be hashed like a password. Shown once, at creation.
    secret = fields.CharField(max_length=100)
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook"


class WebhookEvent(Model):
    """The outbox: one row per event per webhook, written in the transaction of the change it reports.

    `next_attempt_at` is when the next attempt is due; NULL once the event is done (delivered, or given
    up after WEBHOOK_MAX_ATTEMPTS). While an attempt is under way it holds the end of the claim's lease.
    """

    id = fields.BigIntField(primary_key=True)
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="events_out", on_delete=fields.CASCADE, db_index=False
    )
    webhook_id: int
    note_id = fields.IntField()
    type = fields.CharField(max_length=20)
    # The exact JSON body sent (and signed) on every attempt.
    payload = fields.TextField()
    created_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=200, null=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_event"
        indexes = (
            # The deliveries list, newest first, and the per-note order check (an earlier event of the
            # same note to the same webhook that is not done yet).
            ("webhook_id", "note_id", "id"),
            ("webhook_id", "id"),
            # Claiming due events.
            ("next_attempt_at",),
        )


class WebhookAttempt(Model):
    """One delivery attempt, as it ended."""

    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[WebhookEvent] = fields.ForeignKeyField(
        "models.WebhookEvent", related_name="attempt_log", on_delete=fields.CASCADE
    )
    event_id: int
    attempted_at = fields.DatetimeField()
    status = fields.IntField(null=True)
    error = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "webhook_attempt"
