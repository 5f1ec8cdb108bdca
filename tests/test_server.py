"""The app under a real uvicorn process: the lifespan opens the ORM, serves, and closes it cleanly.

httpx's ASGI transport runs no lifespan and runs requests in the test's own task, so it cannot show
Tortoise 1.x's context pitfall (ORM state initialised in one task, requests served in others).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.support import PROJECT_ROOT, run_python

# Seconds a test waits for uvicorn to start or stop: only a bound against a hang, wide enough for a
# machine busy with other work.
SERVER_START_BOUND = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def migrated_database(new_database: Callable[[], Any]) -> str:
    url: str = await new_database()
    run_python("-m", "notes_app.migrate", database_url=url)
    return url


def test_uvicorn_serves_the_app_and_shuts_down_cleanly(migrated_database: str) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "notes_app.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DATABASE_URL": migrated_database,
            "SECRET_KEY": TEST_SECRET_KEY,
            # The lifespan's purge task, made to purge every trashed note within a fifth of a second.
            "TRASH_RETENTION_DAYS": "0",
            "PURGE_INTERVAL_SECONDS": "0.2",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Wide bounds, only against a hang: a machine busy with other work may start uvicorn slowly.
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + SERVER_START_BOUND
            while True:
                try:
                    listed = client.get("/notes")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, "uvicorn exited before serving"
                    assert time.monotonic() < deadline, "uvicorn did not start"
                    time.sleep(0.1)
            signed_up = client.post("/users", json={"username": "carol", "password": "served for real"})
            login = client.post("/auth/token", data={"username": "carol", "password": "served for real"})
            client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
            created = client.post("/notes", json={"title": "served for real", "tags": ["Live"]})
            fetched = client.get(f"/notes/{created.json()['id']}")
            trashed = client.delete(f"/notes/{created.json()['id']}")
            # The contract is a duration here (the purge interval): a wide margin, for a busy machine.
            deadline = time.monotonic() + 30
            while (in_trash := client.get("/trash").json()["items"]) and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=SERVER_START_BOUND)

    assert listed.status_code == 401
    assert signed_up.status_code == 201
    assert login.status_code == 200
    assert created.status_code == 201
    assert fetched.json()["tags"] == ["live"]
    assert trashed.status_code == 204
    assert in_trash == [], "the background purge did not run"
    # uvicorn re-raises SIGTERM once shut down, so the exit is by that signal (or 0 on older versions).
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert "TortoiseContext" not in output
