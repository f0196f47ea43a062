"""One service per process, as containers run it: its HTTP API and/or its background workers."""

from __future__ import annotations

import logging
import signal
import threading

from waitress.server import create_server

from services.background import Background, exit_on_sigterm
from services.common.migrations import apply_migrations
from services.common.settings import Settings
from services.registry import ServiceSpec

log = logging.getLogger(__name__)


def _runtime(settings: Settings, service: ServiceSpec):
    if settings.migrate_on_start:
        apply_migrations(settings.database_url, list(service.schemas))
    runtime = service.build(settings, None, None)
    runtime.pool.open(wait=True, timeout=30)
    return runtime


def serve(settings: Settings, service: ServiceSpec, background: bool = True) -> int:
    """The HTTP API, with the relay and workers in threads unless they run as their own processes."""
    runtime = _runtime(settings, service)
    workers = Background.of(service, runtime).start() if background else Background([])
    http = create_server(
        service.create_app(runtime), host=settings.http_host, port=settings.http_port, threads=8
    )
    log.info("serving %s on %s:%s", service.name, settings.http_host, settings.http_port)
    exit_on_sigterm()
    try:
        http.run()  # until SIGTERM or Ctrl+C
    finally:
        workers.stop()
        runtime.pool.close()
    return 0


def work(settings: Settings, service: ServiceSpec, relay: bool = True, workers: bool = True) -> int:
    """Background workers only (`worker`), or the outbox relay only (`relay`), until SIGTERM."""
    runtime = _runtime(settings, service)
    background = Background.of(service, runtime, relay=relay, workers=workers).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("%s workers running", service.name)
    stop.wait()
    background.stop()
    runtime.pool.close()
    return 0
