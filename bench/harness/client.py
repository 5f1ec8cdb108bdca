"""A small blocking HTTP client for the harness's own requests (sign-up, login, smoke checks, cursor
walk): urllib is enough, and keeps the bench's dependencies to the apps' own."""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or the text when it is not JSON
    raw: bytes = b""  # the body as sent


@dataclass
class Client:
    base: str  # http://127.0.0.1:PORT
    token: str | None = None
    timeout: float = 10.0
    extra_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.base.startswith("http://127.0.0.1:"):
            raise ValueError(f"the bench only talks to servers on this machine, not {self.base}")

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        auth: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        data = None
        headers = {**self.extra_headers, **(headers or {})}
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                raw = response.read()
                return Reply(response.status, dict(response.headers), _parse(raw), raw)
        except urllib.error.HTTPError as error:
            raw = error.read()
            return Reply(error.code, dict(error.headers), _parse(raw), raw)

    def get(self, path: str, *, auth: bool = True) -> Reply:
        return self.request("GET", path, auth=auth)


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")
