"""notes_app with its access log off, whichever way the running notes_app allows it.

notes_app's access log is one JSON line per request on stdout, with method, route, status, duration and
request id. The bench turns it off both ways at once, so it works with the code of either era:

- the `ACCESS_LOG=false` setting, once notes_app has one (perf-reads adds it; unknown settings are
  ignored before that);
- uvicorn's `--log-config` (applied before the app is imported) giving the `notes_app.access` logger a
  NullHandler at WARNING: the logging-based access log of notes_app/observability.py then keeps out of a
  logger that already has a handler, and builds no line while the logger is not enabled for INFO.

The harness counts the lines each server wrote, so a change in notes_app that defeats both fails the
measurement instead of comparing "on" with "on".
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
