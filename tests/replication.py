"""A PostgreSQL primary and a streaming replica of it, each its own cluster in a temporary directory.

Made with the server binaries already on the machine (initdb, pg_basebackup -R, pg_ctl), run as the
`postgres` OS user when the tests run as root (PostgreSQL refuses root), on free ports. The machine's
own cluster is never touched. The replica applies WAL `apply_delay` seconds late
(recovery_min_apply_delay), so replication lag is real and lasts long enough to observe.
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

# Seconds a cluster command may take: only a bound against a hang on a busy machine.
COMMAND_BOUND = 120


def postgres_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ReplicatedClusters:
    def __init__(self, *, apply_delay: float) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise FileNotFoundError("no PostgreSQL server binaries (initdb) on this machine")
        self.bin = bin_dir
        self.apply_delay = apply_delay
        self.directory = Path(tempfile.mkdtemp(prefix="notes_replication_"))
        self.primary_dir = self.directory / "primary"
        self.replica_dir = self.directory / "replica"
        self.primary_port = _free_port()
        self.replica_port = _free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.directory, "postgres")
            self.directory.chmod(0o755)

    def _run(self, *command: str) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self._as_root:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_BOUND, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}")

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database}"

    def start(self) -> None:
        self._run("initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                # Throwaway clusters: speed over durability.
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = 16MB\nmax_connections = 40\n"
                "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                "wal_level = replica\nmax_wal_senders = 4\n"
            )
        with (self.primary_dir / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._pg_ctl(self.primary_dir, self.primary_port)
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", str(self.replica_dir), "-R", "--checkpoint=fast", "--wal-method=stream",
        )  # fmt: skip
        with (self.replica_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"recovery_min_apply_delay = {int(self.apply_delay * 1000)}ms\nhot_standby = on\n")
        self.start_replica()

    def _pg_ctl(self, data_dir: Path, port: int) -> None:
        log = self.directory / f"{data_dir.name}.log"
        self._run("pg_ctl", "-D", str(data_dir), "-l", str(log), "-o", f"-p {port}", "-w", "-t", "90", "start")

    def start_replica(self) -> None:
        self._pg_ctl(self.replica_dir, self.replica_port)

    def stop_replica(self) -> None:
        self._run("pg_ctl", "-D", str(self.replica_dir), "-m", "immediate", "-w", "stop")

    def close(self) -> None:
        for data_dir in (self.replica_dir, self.primary_dir):
            if (data_dir / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError):
                    self._run("pg_ctl", "-D", str(data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)
