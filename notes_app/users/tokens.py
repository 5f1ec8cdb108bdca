"""Signed access tokens (JWT, HS256)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from notes_app.errors import ProblemError

ALGORITHM = "HS256"


class InvalidCredentials(ProblemError):
    """401: missing, malformed, expired or revoked credentials."""

    status = 401

    def __init__(self, detail: str, *, token_sent: bool = True) -> None:
        # RFC 6750: a request without credentials gets the bare challenge, a bad token names the error.
        challenge = 'Bearer error="invalid_token"' if token_sent else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


@dataclass(frozen=True)
class TokenIssuer:
    key: str
    lifetime: timedelta

    def issue(self, user_id: int) -> str:
        now = datetime.now(UTC)
        return jwt.encode({"sub": str(user_id), "iat": now, "exp": now + self.lifetime}, self.key, ALGORITHM)

    def user_id(self, token: str) -> int:
        """The user the token was issued to, if this service signed it and it has not expired."""
        try:
            # Only HS256 is accepted: `alg: none` and every other algorithm fail here.
            claims = jwt.decode(token, self.key, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub"]})
        except jwt.ExpiredSignatureError:
            raise InvalidCredentials("the access token has expired") from None
        except jwt.PyJWTError:
            raise InvalidCredentials("the access token is not valid") from None
        subject = claims["sub"]
        if not (isinstance(subject, str) and subject.isdigit() and subject.isascii()):
            raise InvalidCredentials("the access token is not valid")
        return int(subject)
