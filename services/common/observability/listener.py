"""The probe listener: ``/metrics``, ``/healthz`` and ``/readyz`` on METRICS_PORT.

Processes without an HTTP API (``worker``, ``relay``) need something for Prometheus to scrape and
for container probes to ask; ``serve`` opens it too, so every container is scraped and probed on
the same port. It is a small standard-library server in a thread of its own, apart from the API's.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from services.common.observability.exposition import render

log = logging.getLogger(__name__)

Checks = Callable[[], dict[str, str]]  # check name -> "ok" or what is wrong


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # probes every few seconds would drown the logs
        pass


class ProbeListener:
    """Answers probes and scrapes until stop(); liveness and readiness come from the caller."""

    def __init__(self, host: str, port: int, liveness: Checks, readiness: Checks, collectors: Iterable = ()):
        self.liveness = liveness
        self.readiness = readiness
        self.collectors = list(collectors)
        self.server = make_server(host, port, self.app, server_class=_Server, handler_class=_QuietHandler)
        self.port = self.server.server_port

    def start(self) -> ProbeListener:
        threading.Thread(target=self.server.serve_forever, name="probe-listener", daemon=True).start()
        log.info("metrics and probes on port %s", self.port)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            body, content_type = render(self.collectors)
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        if path in ("/healthz", "/readyz"):
            return self._checks(path, start_response)
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"code": 404, "message": "only /metrics, /healthz and /readyz are here"}']

    def _checks(self, path: str, start_response):
        checks = (self.liveness if path == "/healthz" else self.readiness)()
        good = all(value == "ok" for value in checks.values())
        status = ("ok" if path == "/healthz" else "ready") if good else "not ok"
        body = json.dumps({"status": status, "checks": checks}).encode()
        start_response(
            "200 OK" if good else "503 Service Unavailable", [("Content-Type", "application/json")]
        )
        return [body]
