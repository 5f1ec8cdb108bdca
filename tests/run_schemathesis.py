"""`make contract`: schemathesis against a live notes_app, signed in, every check, a fixed seed.

A separate process from the pytest suite: schemathesis' global state clashes with its async fixtures.
Uses TEST_DATABASE_URL's server when set (in a database of its own, dropped afterwards), else an
SQLite file in a temporary folder.
"""

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.conftest import PostgresServer
from tests.support import PROJECT_ROOT, run_python
from tests.test_server import SERVER_START_BOUND, free_port

USERNAME, PASSWORD = "contract", "contract-test-password"


def sign_in(base_url: str) -> str:
    # Wide bounds, only against a hang: a machine busy with other work may start uvicorn slowly.
    with httpx.Client(base_url=base_url, timeout=30) as client:
        deadline = time.monotonic() + SERVER_START_BOUND
        while True:
            try:
                client.get("/health/live")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        client.post("/users", json={"username": USERNAME, "password": PASSWORD}).raise_for_status()
        token = client.post("/auth/token", data={"username": USERNAME, "password": PASSWORD})
        token.raise_for_status()
        access_token: str = token.json()["access_token"]
        # A note from the start: GET /notes/changes without a cursor then always has changes to answer
        # (notes, or their deletions), so its `wait` never holds a generated request for up to 30 s.
        note = client.post("/notes", json={"title": "contract"}, headers={"Authorization": f"Bearer {access_token}"})
        note.raise_for_status()
        return access_token


def run(database_url: str, workdir: Path, extra_args: list[str]) -> int:
    run_python("-m", "notes_app.migrate", database_url=database_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(48)}
    with (workdir / "uvicorn.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "notes_app.main:app", "--port", str(port), "--no-access-log"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            token = sign_in(base_url)
            return subprocess.run(
                [
                    *[sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/openapi.json"],
                    *["--checks", "all", "--header", f"Authorization: Bearer {token}"],
                    *extra_args,
                ],
                cwd=PROJECT_ROOT,
                check=False,
                timeout=1200,
            ).returncode
        finally:
            server.terminate()
            server.wait(timeout=SERVER_START_BOUND)


def main() -> int:
    # Anything on the command line goes to schemathesis, e.g. `--seed 7 --max-examples 150`
    # (`make contract CONTRACT_ARGS='--seed 7 --max-examples 150'`).
    extra_args = sys.argv[1:]
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        postgres_url = os.environ.get("TEST_DATABASE_URL")
        if not postgres_url:
            return run(f"sqlite://{workdir / 'contract.sqlite3'}", workdir, extra_args)
        server = PostgresServer(postgres_url)
        database_url = asyncio.run(server.create("notes_contract"))
        try:
            return run(database_url, workdir, extra_args)
        finally:
            asyncio.run(server.drop(database_url))


if __name__ == "__main__":
    sys.exit(main())
