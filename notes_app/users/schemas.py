import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, WithJsonSchema
from tortoise.contrib.pydantic import pydantic_model_creator

from notes_app.text import STORABLE_PATTERN, storable
from notes_app.users.models import MAX_USERNAME_LENGTH, User

# Taken as sent: "Alice" is refused rather than quietly stored as "alice".
USERNAME_PATTERN = r"^[a-z0-9_.-]+$"
Username = Annotated[str, StringConstraints(min_length=3, max_length=MAX_USERNAME_LENGTH, pattern=USERNAME_PATTERN)]


def could_be_username(text: str) -> bool:
    """Whether some account could have this username: every account was signed up under these rules."""
    return 3 <= len(text) <= MAX_USERNAME_LENGTH and re.fullmatch(USERNAME_PATTERN, text) is not None


Password = Annotated[
    str,
    StringConstraints(min_length=8, max_length=128),
    AfterValidator(storable),
    WithJsonSchema({"type": "string", "minLength": 8, "maxLength": 128, "pattern": STORABLE_PATTERN}),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    username: Username
    password: Password


UserPublic = pydantic_model_creator(User, name="User", exclude=("password_hash",))


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
