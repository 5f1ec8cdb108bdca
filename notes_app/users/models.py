from tortoise import fields
from tortoise.models import Model

MAX_USERNAME_LENGTH = 40


class User(Model):
    id = fields.IntField(primary_key=True)
    # Unique in the database: of two concurrent sign-ups for one name, the constraint picks the winner.
    username = fields.CharField(max_length=MAX_USERNAME_LENGTH, unique=True)
    # An Argon2 PHC string; "!" marks an account nobody can log in to (see the accounts migration).
    password_hash = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user"
