"""What the harness reads from /proc: CPU time and memory of a server's processes and of PostgreSQL,
and how busy the whole machine is (to tell load from other tenants apart from ours)."""

import contextlib
import os
import re
import resource
import threading
import time
from collections.abc import Iterable
from types import TracebackType

CLK_TCK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (which may itself hold spaces or ')')."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def cpu_ticks(pids: Iterable[int]) -> dict[int, int]:
    """User + system CPU ticks of each of these processes that still exists."""
    ticks = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):  # exited meanwhile
            fields = _stat_fields(pid)
            ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def ticks_between(before: dict[int, int], after: dict[int, int]) -> int:
    """CPU ticks spent between two cpu_ticks() readings by the processes alive at the second. One that
    started in between counts in full; one that exited is lost (it can no longer be read). Summing
    per process, rather than totals, keeps an exited process from making the difference negative."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items())


def _parent_pids() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):  # gone since listdir
                parents[int(entry)] = int(_stat_fields(int(entry))[1])
    return parents


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants: uvicorn with --workers N is a supervisor plus N workers."""
    parents = _parent_pids()
    tree = [root]
    for pid in tree:  # grows while iterating: a breadth-first walk, bounded by the process count
        tree.extend(child for child, parent in parents.items() if parent == pid)
    return tree


def parent_pid(pid: int) -> int:
    return int(_stat_fields(pid)[1])


# A client backend's title: "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE", or [local] for a socket.
_CLIENT_BACKEND = re.compile(r"^postgres: (?:\S+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])")


def postgres_pids(postmaster: int, databases: Iterable[str]) -> list[int]:
    """The cluster's processes that work for the bench: the postmaster, its auxiliary processes (WAL
    writer, checkpointer, ...) and the client backends of `databases`. Backends of other databases are
    left out: other tenants of the machine (a test suite, say) may use the same server."""
    ours = set(databases)
    pids = []
    for pid in process_tree(postmaster):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                title = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        backend = _CLIENT_BACKEND.match(title)
        if backend is None or backend.group(1) in ours:
            pids.append(pid)
    return pids


def status_kib(pid: int, field: str) -> int:
    """A memory figure of /proc/PID/status in KiB (VmRSS: now; VmHWM: peak since start), 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the summed VmRSS of `pids` every `interval` s in a thread while the `with` block runs.

    VmHWM alone would give each process's peak since it started (smoke checks and warm-up included);
    sampling gives the peak during the measured run itself, and the sum over a multi-worker server."""

    def __init__(self, pids: list[int], interval: float = 0.1) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak_kib = max(self.peak_kib, sum(status_kib(pid, "VmRSS") for pid in self.pids))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def busy_ticks() -> int:
    """CPU ticks spent busy on all cores since boot (user+nice+system+irq+softirq+steal)."""
    with open("/proc/stat") as stat:
        values = [int(x) for x in stat.readline().split()[1:]]
    return values[0] + values[1] + values[2] + values[5] + values[6] + values[7]


def children_ticks() -> int:
    """CPU ticks of this process's waited-for children (here: the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((usage.ru_utime + usage.ru_stime) * CLK_TCK)


class QuietGate:
    """Before a run (our server idle), wait until the machine's busy CPU over 1 s is at most
    `threshold_pct` of all cores: other tenants' load skews a measurement more than a short delay.

    Each wait is bounded by `max_wait` s and all waits together by `budget` s, so a machine that stays
    busy makes the bench noisier (the report says so), never much longer."""

    def __init__(self, *, threshold_pct: float, max_wait: float, budget: float) -> None:
        self.threshold_pct = threshold_pct
        self.max_wait = max_wait
        self.budget = budget

    def wait(self) -> tuple[float, float]:
        """Returns (seconds waited, busy % of the last 1 s sample)."""
        start = time.monotonic()
        limit = max(min(self.max_wait, self.budget), 1.0)
        while True:
            before = busy_ticks()
            time.sleep(1)
            pct = 100 * (busy_ticks() - before) / (CLK_TCK * CPUS)
            waited = time.monotonic() - start
            if pct <= self.threshold_pct or waited >= limit:
                self.budget = max(self.budget - max(waited - 1, 0), 0)  # the 1 s sample is always spent
                return waited, pct
            time.sleep(1)
