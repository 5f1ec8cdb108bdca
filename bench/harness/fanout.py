"""Webhook fan-out throughput: how fast notes_app delivers its outbox to local receivers.

A receiver (a threaded HTTP server on 127.0.0.1 in the bench process, answering 204) takes every
delivery; notes_app runs with WEBHOOK_ALLOW_PRIVATE_TARGETS=true so it may post there. The bench user
registers WEBHOOKS webhooks (the per-user maximum), then creates notes with POST /notes/bulk: every note
is one event per webhook, written in the note's transaction. Measured: from the first bulk request to
the last delivery received, events per second end to end (outbox insert, claim, sign, POST, record).
"""

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.client import Client

WEBHOOKS = 10
BULK = 500


@dataclass(frozen=True)
class FanOut:
    notes: int
    webhooks: int
    events: int
    write_seconds: float  # the bulk creates, outbox inserts included
    deliver_seconds: float  # first bulk request to last delivery received

    @property
    def events_per_second(self) -> float:
        return self.events / self.deliver_seconds


class _Counter:
    def __init__(self) -> None:
        self.count = 0
        self.ids: set[str] = set()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.expected = 0


def _receiver(counter: _Counter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: notes_app's client reuses connections

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            with counter.lock:
                counter.count += 1
                counter.ids.add(self.headers.get("webhook-id", ""))
                if counter.count >= counter.expected:
                    counter.done.set()
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def measure(client: Client, *, notes: int, timeout: float = 300.0) -> FanOut:
    counter = _Counter()
    server = _receiver(counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        for _ in range(WEBHOOKS):
            reply = client.request("POST", "/webhooks", json_body={"url": url})
            if reply.status != 201:
                raise RuntimeError(f"POST /webhooks answered {reply.status}: {reply.body}")
        counter.expected = notes * WEBHOOKS
        started = time.monotonic()
        for start in range(0, notes, BULK):
            batch = [{"title": f"fan-out {i}"} for i in range(start, min(start + BULK, notes))]
            reply = client.request("POST", "/notes/bulk", json_body={"notes": batch})
            if reply.status != 201:
                raise RuntimeError(f"POST /notes/bulk answered {reply.status}: {str(reply.body)[:300]}")
        written = time.monotonic() - started
        if not counter.done.wait(timeout):
            raise RuntimeError(f"only {counter.count} of {counter.expected} deliveries within {timeout:.0f} s")
        delivered = time.monotonic() - started
        if len(counter.ids) != counter.expected:
            raise RuntimeError(f"{counter.count} deliveries but {len(counter.ids)} distinct webhook-ids")
        return FanOut(notes, WEBHOOKS, counter.expected, written, delivered)
    finally:
        server.shutdown()
        server.server_close()
