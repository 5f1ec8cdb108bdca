import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema
from tortoise.contrib.pydantic import pydantic_model_creator

from notes_app.text import STORABLE_PATTERN, storable, trim, trimmed_pattern
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
    # The rest of a session (v1.1): the refresh token is single use, and the session is what
    # GET /users/me/sessions lists.
    refresh_token: str
    session_id: int


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    # Any string: a wrong one, however long or short, is the same 401 as an unknown one (the contract),
    # never a 422 that would tell malformed tokens apart from spent ones.
    refresh_token: str


class SessionPublic(BaseModel):
    id: int
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    # Whether this is the session of the access token that asked.
    current: bool


class SessionList(BaseModel):
    items: list[SessionPublic]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    # Unbounded: a wrong current password of any length is 401 (and counted), like a wrong login.
    current_password: str
    new_password: Password


class AccountDeletion(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    password: str


Scope = Literal["notes:read", "notes:write"]


def _grants_reading(scopes: list[Scope]) -> list[Scope]:
    if "notes:read" not in scopes:
        raise ValueError("scopes must contain notes:read")
    if len(set(scopes)) != len(scopes):
        raise ValueError("scopes must not repeat")
    return scopes


MAX_TOKEN_NAME_LENGTH = 100


def _trimmed_name(name: str) -> str:
    trimmed = trim(storable(name))
    if not 1 <= len(trimmed) <= MAX_TOKEN_NAME_LENGTH:
        raise ValueError(f"a name is 1 to {MAX_TOKEN_NAME_LENGTH} characters once surrounding white space is trimmed")
    return trimmed


# Trimmed like a note's title (the same white space, the same pattern in the document).
TokenName = Annotated[
    str,
    AfterValidator(_trimmed_name),
    WithJsonSchema({"type": "string", "pattern": trimmed_pattern(max_length=MAX_TOKEN_NAME_LENGTH)}),
]


def _integral(value: object) -> object:
    # JSON does not tell 7 from 7.0 (JSON Schema calls both integers); strict validation would refuse
    # the second. Any other float still fails as not an integer.
    return int(value) if isinstance(value, float) and value.is_integer() else value


class PersonalTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    # A label for the owner ("laptop backup script"); trimmed, 1..100 characters.
    name: TokenName
    scopes: Annotated[
        list[Scope],
        Field(min_length=1, max_length=2, json_schema_extra={"uniqueItems": True, "contains": {"const": "notes:read"}}),
        AfterValidator(_grants_reading),
    ]
    # Days until the token stops working; null: until revoked.
    expires_in_days: Annotated[int, Field(ge=1, le=365), BeforeValidator(_integral)] | None = None


class PersonalTokenPublic(BaseModel):
    id: int
    name: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class NewPersonalToken(PersonalTokenPublic):
    # Shown only in the answer to its creation: only its hash is stored.
    token: str


class PersonalTokenList(BaseModel):
    items: list[PersonalTokenPublic]
