"""An app under uvicorn on 127.0.0.1, started and stopped by the harness (and only by it: every
process it signals is one it started, found by PID)."""

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import time
import urllib.error
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.client import Client
from harness.procstats import process_tree


class Server:
    def __init__(
        self,
        *,
        asgi: str,
        port: int,
        workers: int,
        env: dict[str, str],
        cwd: Path,
        uvicorn: Path,
        log: Path,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.asgi, self.port = asgi, port
        with socket.socket() as probe:  # a stray server on the port would be measured instead of ours
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise RuntimeError(f"port {port} is already in use: choose another with --port")
        cmd = [
            str(uvicorn), asgi,
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning", *extra_args,
        ]  # fmt: skip
        self._log_path = log
        self._log = log.open("a")
        self._log.write(f"\n=== {dt.datetime.now().isoformat()} {' '.join(cmd)}\n")
        self._log.flush()
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until the app answers /openapi.json (every app here serves it, with or without a token)."""
        deadline = time.monotonic() + timeout
        probe = Client(self.base, timeout=1.0)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.asgi} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if probe.get("/openapi.json").status == 200:
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.asgi} not ready after {timeout:.0f} s")

    def log_tail(self, lines: int = 6) -> str:
        self._log.flush()
        return "\n".join(self._log_path.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def pids(self) -> list[int]:
        """The uvicorn process and, with --workers N, its worker processes."""
        return process_tree(self.proc.pid) if self.alive() else []

    def stop(self) -> None:
        if self.alive():
            tree = self.pids()
            self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown, workers included
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                for pid in reversed(tree):  # workers first, then the supervisor; each by its PID
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()


def start_server(**kwargs: Any) -> Server:
    """A Server (same arguments) that is answering, or stopped again and the error raised."""
    server = Server(**kwargs)
    try:
        server.wait_ready()
    except Exception:
        server.stop()
        raise
    return server
