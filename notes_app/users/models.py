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


# One login: its refresh tokens rotate, its access tokens name it (`sid`). Ending it deletes the row, so
# "this session is alive" is "this row exists", which a request's own statement can ask.
class UserSession(Model):
    # AUTOINCREMENT (SQLite) / SERIAL (PostgreSQL): ids are never reused, so an access token naming an ended
    # session can never come back to life by naming a newer one.
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE, db_index=True
    )
    user_id: int
    created_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField()
    # Slides forward on every refresh: a session not refreshed for REFRESH_TOKEN_DAYS is over.
    expires_at = fields.DatetimeField()
    user_agent = fields.CharField(max_length=255, null=True)

    class Meta:
        table = "user_session"


# Every refresh token a session was given, spent or not: presenting a spent one again is how a stolen
# token shows itself (RFC 9700 4.14.2), so spent ones are kept until their session ends.
class RefreshToken(Model):
    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[UserSession] = fields.ForeignKeyField(
        "models.UserSession", related_name="refresh_tokens", on_delete=fields.CASCADE, db_index=True
    )
    session_id: int
    # SHA-256 (hex) of the token: the token is 256 random bits, so a fast hash is enough to make a
    # leaked table useless, and lets the token be found by its hash.
    token_hash = fields.CharField(max_length=64, unique=True)
    spent = fields.BooleanField(default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "refresh_token"


# A personal access token: `nat_` and 256 random bits, for scripts and plugins that must not hold the
# password. Revoking one deletes the row.
class PersonalAccessToken(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="personal_access_tokens", on_delete=fields.CASCADE, db_index=True
    )
    user_id: int
    name = fields.CharField(max_length=100)
    # SHA-256 (hex) of the whole token, `nat_` included.
    token_hash = fields.CharField(max_length=64, unique=True)
    # notes:read is always granted; this says whether notes:write is too.
    can_write = fields.BooleanField()
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "personal_access_token"
