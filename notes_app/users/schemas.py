from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, WithJsonSchema
from tortoise.contrib.pydantic import pydantic_model_creator

from notes_app.text import STORABLE_PATTERN, storable
from notes_app.users.models import User

# Taken as sent: "Alice" is refused rather than quietly stored as "alice".
Username = Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^[a-z0-9_.-]+$")]
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
