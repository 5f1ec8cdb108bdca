"""Signed access tokens (JWT, HS256), each naming the user and the session it was issued for."""

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from notes_app.errors import ProblemError

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid"]


class InvalidCredentials(ProblemError):
    """401: missing, malformed, expired or revoked credentials."""

    status = 401

    def __init__(self, detail: str, *, token_sent: bool = True) -> None:
        # RFC 6750: a request without credentials gets the bare challenge, a bad token names the error.
        challenge = 'Bearer error="invalid_token"' if token_sent else "Bearer"
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class TokenIssuer:
    def __init__(self, *, key: str, lifetime: timedelta) -> None:
        self.key = key
        self.lifetime = lifetime
        # Checking a signature costs about 80 µs, a large share of a small request: a token verified
        # once is remembered (the last 4096), and only its expiry is checked again on each use.
        # Tokens that fail are never remembered (lru_cache does not cache exceptions).
        self._verified = lru_cache(maxsize=4096)(self._verify)

    def issue(self, user_id: int, session_id: int) -> str:
        now = datetime.now(UTC)
        claims = {"sub": str(user_id), "sid": session_id, "iat": now, "exp": now + self.lifetime}
        return jwt.encode(claims, self.key, ALGORITHM)

    def subject(self, token: str) -> tuple[int, int]:
        """(user id, session id) the token was issued for, if this service signed it and it has not
        expired. Whether the session is still alive is the database's to say (notes_app/users/credentials.py):
        what is remembered here is only what cannot change, the signature's verdict."""
        user_id, session_id, expires_at = self._verified(token)
        if expires_at <= time.time():
            raise InvalidCredentials("the access token has expired")
        return user_id, session_id

    def _verify(self, token: str) -> tuple[int, int, float]:
        try:
            # Only HS256 is accepted: `alg: none` and every other algorithm fail here.
            claims = jwt.decode(token, self.key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})
        except jwt.ExpiredSignatureError:
            raise InvalidCredentials("the access token has expired") from None
        except jwt.PyJWTError:
            raise InvalidCredentials("the access token is not valid") from None
        subject, session_id = claims["sub"], claims["sid"]
        if not (isinstance(subject, str) and subject.isdigit() and subject.isascii()) or type(session_id) is not int:
            raise InvalidCredentials("the access token is not valid")
        return int(subject), session_id, float(claims["exp"])
