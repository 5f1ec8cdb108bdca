"""One wrk run against a local server, parsed from the WRKJSON line that bench.lua prints."""

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "bench.lua"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_us: int
    bytes: int
    err_connect: int
    err_read: int
    err_write: int
    err_status: int  # responses with a status of 400 or more: wrk's own count
    err_timeout: int
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    mean_us: float

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    @property
    def errors(self) -> int:
        return self.err_connect + self.err_read + self.err_write + self.err_status + self.err_timeout


def run_wrk(
    *,
    url: str,
    script_args: list[str],
    seconds: int,
    threads: int,
    connections: int,
    token: str | None,
    wrk: str = "wrk",
) -> WrkResult:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the bench only loads servers on this machine, not {url}")
    cmd = [
        wrk,
        "-t", str(threads),
        "-c", str(connections),
        "-d", f"{seconds}s",
        "--timeout", "10s",
        "-s", str(SCRIPT),
        url, "--", *script_args,
    ]  # fmt: skip
    env = dict(os.environ)
    env.pop("BENCH_TOKEN", None)
    if token:
        env["BENCH_TOKEN"] = token  # bench.lua adds it as a bearer token to every request
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, env=env, check=False)
    match = re.search(r"^WRKJSON (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed (exit {done.returncode})\n{done.stdout}\n{done.stderr}")
    return WrkResult(**json.loads(match.group(1)))
