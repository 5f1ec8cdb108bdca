"""Helpers for tests that run the project's commands in a child process, as a user would."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_python(*args: str, database_url: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python ARGS` from the project root with DATABASE_URL set; fails the test on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def aerich(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "aerich.cli", *args, database_url=database_url)
