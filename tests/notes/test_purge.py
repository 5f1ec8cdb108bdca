"""The retention purge run by several workers at once: every expired note is purged exactly once.

PostgreSQL: two OS processes against one database, started together. SQLite serves one process: two
connections to one database file, purging at once from one process.
"""

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from tests.support import PROJECT_ROOT, run_python

WORKER = "tests.notes.purge_worker"


def worker(*args: str, database_url: str) -> Any:
    return orjson.loads(run_python("-m", WORKER, *args, database_url=database_url).stdout)


def two_processes_purging(url: str, tmp_path: Path) -> tuple[list[int], list[int]]:
    ready = [str(tmp_path / "a"), str(tmp_path / "b")]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", WORKER, "purge", mine, other, "7"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mine, other in (ready, ready[::-1])
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_, errors) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, errors
        assert "Traceback" not in errors
    first, second = (orjson.loads(stdout) for stdout, _ in outputs)
    return first, second


async def test_two_workers_purging_at_once_purge_each_expired_note_once(
    new_database: Callable[[], Any], dialect: str, tmp_path: Path
) -> None:
    url = await new_database()
    run_python("-m", "notes_app.migrate", database_url=url)
    seeded = worker("seed", "5", "120", database_url=url)

    if dialect == "postgres":
        first, second = await asyncio.to_thread(two_processes_purging, url, tmp_path)
    else:
        first, second = worker("purge-two", "7", database_url=url)

    assert not set(first) & set(second)  # no note purged twice
    assert sorted(first + second) == sorted(seeded["trashed"])  # and none missed
    left = worker("state", database_url=url)
    assert left["notes"] == seeded["live"]  # live notes untouched
    assert left["with_revisions"] == seeded["live"]  # purged notes took their history with them
