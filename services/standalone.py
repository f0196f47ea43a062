"""One service per process, as containers run it: its HTTP API (waitress) and/or its relay."""

from __future__ import annotations

import logging
import signal
import threading

from waitress.server import create_server

from services.common.bus.outbox import run_in_thread
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


def serve(settings: Settings, service: ServiceSpec, with_relay: bool = True) -> int:
    runtime = _runtime(settings, service)
    relay = runtime.relay() if with_relay else None
    if relay:
        run_in_thread(relay)
    http = create_server(
        service.create_app(runtime), host=settings.http_host, port=settings.http_port, threads=8
    )
    log.info("serving %s on %s:%s", service.name, settings.http_host, settings.http_port)
    signal.signal(signal.SIGTERM, lambda *_: http.close())
    try:
        http.run()
    except (OSError, ValueError):
        pass  # closed by the signal handler
    finally:
        if relay:
            relay.stop()
        runtime.pool.close()
    return 0


def relay_only(settings: Settings, service: ServiceSpec) -> int:
    runtime = _runtime(settings, service)
    relay = runtime.relay()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: (relay.stop(), stop.set()))
    relay.run()
    runtime.pool.close()
    return 0
