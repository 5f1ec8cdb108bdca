"""notes_app with its access log off: the uvicorn logging configuration that silences it.

notes_app always writes its access log (notes_app/observability.py: configure_access_log, one JSON line
per request through a queue and a writer thread) and has no setting to turn it off. Its configuration
step keeps out of a logger that already has a handler, and the middleware builds a line only while
`notes_app.access` is enabled for INFO. So uvicorn's `--log-config` (applied before the app is
imported) gives that logger a NullHandler at WARNING: nothing is built, queued or written. The bench
checks the result by counting the lines each server wrote, so a change in notes_app that defeats this
fails the measurement instead of comparing "on" with "on".
"""

import copy
import json
from pathlib import Path

from uvicorn.config import LOGGING_CONFIG

ACCESS_LOGGER = "notes_app.access"


def config_off(path: Path) -> Path:
    """uvicorn's own logging configuration plus the silenced access logger, written as JSON to `path`."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["disable_existing_loggers"] = False
    config["handlers"]["discard"] = {"class": "logging.NullHandler"}
    config["loggers"][ACCESS_LOGGER] = {"handlers": ["discard"], "level": "WARNING", "propagate": False}
    path.write_text(json.dumps(config, indent=1))
    return path


def lines_written(log: Path) -> int:
    """Access-log lines in a server's output (each a JSON object with a request_id)."""
    if not log.exists():
        return 0
    with log.open(errors="replace") as output:
        return sum(1 for line in output if line.startswith("{") and '"request_id"' in line)
