"""A real PgBouncer (the Debian `pgbouncer` binary) in transaction mode, in front of the test server.

Nothing is installed here: `.ci/run` installs the package when it is missing. Without the binary the
tests that need it skip, saying why. Configuration, log and pid live in a temporary directory.
PgBouncer refuses to run as root, so as root it is started with `-u postgres` (it reads its
configuration, then drops to that user before opening the log).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Where Debian puts it; /usr/sbin is not on every PATH.
PGBOUNCER_PATHS = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
# Seconds to wait for PgBouncer to listen: only a bound against a hang on a busy machine.
START_BOUND = 30.0


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    return found or next((path for path in PGBOUNCER_PATHS if os.access(path, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PgBouncer:
    """One PgBouncer process; `stop()` and `start()` again restart it on the same port."""

    def __init__(self, upstream_url: str, *, pool_size: int = 20) -> None:
        binary = pgbouncer_binary()
        if binary is None:
            raise FileNotFoundError("pgbouncer is not installed (.ci/run installs it: apt-get install pgbouncer)")
        self.binary = binary
        self.upstream = urlsplit(upstream_url)
        self.port = _free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="notes_pgbouncer_"))
        self.log = self.directory / "pgbouncer.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._as_root = os.geteuid() == 0
        user = self.upstream.username or "postgres"
        (self.directory / "userlist.txt").write_text(f'"{user}" ""\n')
        (self.directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            # Any database name the client asks for, on the test server.
            f"* = host={self.upstream.hostname or '127.0.0.1'} port={self.upstream.port or 5432}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "pool_mode = transaction\n"
            "auth_type = trust\n"
            f"auth_file = {self.directory / 'userlist.txt'}\n"
            f"logfile = {self.log}\n"
            "pidfile =\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 500\n"
            # The suite drops its databases WITH (FORCE): let PgBouncer forget a server connection quickly.
            "server_check_delay = 1\n"
        )
        if self._as_root:
            shutil.chown(self.directory, "postgres")
            self.directory.chmod(0o755)

    def url(self, database_url: str) -> str:
        """`database_url` with PgBouncer's host and port instead of the server's."""
        parts = urlsplit(database_url)
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(
            parts._replace(netloc=f"{userinfo}@127.0.0.1:{self.port}" if userinfo else f"127.0.0.1:{self.port}")
        )

    def start(self) -> None:
        command = [self.binary, *(["-u", "postgres"] if self._as_root else []), str(self.directory / "pgbouncer.ini")]
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_BOUND
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pgbouncer did not start:\n{self.read_log()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """An immediate shutdown (SIGTERM): every client connection is cut, as in a crash or a restart."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            self._process.wait(timeout=START_BOUND)
        self._process = None

    def read_log(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
