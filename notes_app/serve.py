"""`notes_app` (the console script) and `make serve`: the production server.

N uvicorn worker processes (WEB_CONCURRENCY) on one socket, supervised by uvicorn: a worker that dies is
replaced. SIGTERM or SIGINT shuts down gracefully: the socket stops accepting, idle connections close,
requests already in progress finish (up to GRACEFUL_SHUTDOWN_SECONDS), each worker's lifespan closes its
pool, then the process exits. Every worker is a whole app with its own pool (DB_POOL_MAX each), login
limit client and metrics: see docs/scaling.md for what has to be shared and how.
"""

import uvicorn

from notes_app.config import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        # An import string, not the object: each worker imports the app (and opens its own pool) itself.
        "notes_app.main:app",
        host=settings.host,
        port=settings.port,
        workers=settings.web_concurrency,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        # The app writes its own access log (notes_app/observability.py).
        access_log=False,
        # Behind a balancer: client addresses and scheme from X-Forwarded-* sent by FORWARDED_ALLOW_IPS.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


if __name__ == "__main__":
    main()
