"""One service per process, as containers run it: its HTTP API and/or its background workers.

Every process answers ``/metrics``, ``/healthz`` and ``/readyz`` on METRICS_PORT when it is set (the
image sets it), so containers are scraped and probed alike. SIGTERM stops it gracefully: the API
finishes the requests in hand, every worker the message, batch or case it holds, and then the
database pool closes.
"""

from __future__ import annotations

import logging
import signal
import threading
import urllib.request

from waitress.server import create_server

from services.common.db import ping
from services.common.errors import ConfigurationError, Unavailable
from services.common.migrations import apply_migrations
from services.common.observability.listener import ProbeListener
from services.common.settings import Settings
from services.common.web.api import add_collectors, add_liveness, add_readiness
from services.common.web.proxies import server_options
from services.runner.background import Background, exit_on_sigterm
from services.runner.registry import ServiceSpec

log = logging.getLogger(__name__)


def _runtime(settings: Settings, service: ServiceSpec):
    if not settings.auth_secret:  # tokens could be neither issued nor checked
        raise ConfigurationError("AUTH_SECRET is required to run a service (the same for every service)")
    if settings.migrate_on_start:
        apply_migrations(settings.database_url, list(service.schemas))
    runtime = service.build(settings, None, None)
    runtime.pool.open(wait=True, timeout=30)
    return runtime


def _warm_up(service: ServiceSpec, runtime) -> None:
    """The service's warm-up, in the background (an API or a worker; a relay alone needs none); a
    failure only leaves the work to the first request that needs it."""

    def warm() -> None:
        try:
            service.warm_up(runtime)
        except Exception as exc:
            log.warning("warm-up of %s skipped: %s", service.name, exc)

    threading.Thread(target=warm, name="warm-up", daemon=True).start()


def _database(runtime) -> str:
    try:
        ping(runtime.pool)
    except Unavailable as exc:
        return str(exc)
    return "ok"


def _http(settings: Settings) -> str:
    """Whether this process's own API answers: the probe port then vouches for it too."""
    host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::", "") else settings.http_host  # noqa: S104
    try:
        with urllib.request.urlopen(f"http://{host}:{settings.http_port}/healthz", timeout=2):
            return "ok"
    except OSError as exc:
        return f"the HTTP API does not answer: {exc}"


def _worker_checks(workers: Background) -> dict:
    """One /readyz check per worker that can tell whether it is connected to the broker."""

    def check(name: str):
        def connected() -> None:
            state = workers.readiness().get(name, "not connected")
            if state != "ok":
                raise Unavailable(state)

        return connected

    return {name: check(name) for name in workers.readiness()}


def _probes(
    settings: Settings,
    runtime,
    collectors: list,
    workers: Background,
    serving: bool = False,
    broker_ready: bool = True,
) -> ProbeListener | None:
    """The probe listener on METRICS_PORT, if one is set; `broker_ready=False` leaves the workers'
    broker connections out of readiness (liveness still watches their threads)."""
    if not settings.metrics_port:
        return None
    api = (lambda: {"http": _http(settings)}) if serving else dict
    ready = workers.readiness if broker_ready else dict
    return ProbeListener(
        settings.http_host,
        settings.metrics_port,
        liveness=lambda: {**api(), **workers.liveness()},
        readiness=lambda: {"database": _database(runtime), **ready()},
        collectors=collectors,
    ).start()


def serve(settings: Settings, service: ServiceSpec, background: bool = True) -> int:
    """The HTTP API with its outbox relay, and the other workers in threads unless they run as their
    own processes (`background=False`: `serve --no-workers`).

    The relay always runs here: the API's events go to the broker from the process that wrote
    them, woken in-process after each commit, instead of a NOTIFY for a worker's relay (a statement
    and a commit more per request, and a hop). Without the other workers, the broker is left out of
    readiness: the API records into its outbox while the broker is away, and its relay catches up.
    """
    runtime = _runtime(settings, service)
    _warm_up(service, runtime)
    workers = Background.of(service, runtime, workers=background, own_writes=not background).start()
    collectors = service.collectors(runtime)
    app = service.create_app(runtime)
    add_collectors(app, collectors)
    add_readiness(app, _worker_checks(workers) if background else {})
    add_liveness(app, workers.liveness)
    probes = _probes(settings, runtime, collectors, workers, serving=True, broker_ready=background)
    http = create_server(
        app,
        host=settings.http_host,
        port=settings.http_port,
        threads=8,
        **server_options(settings.trusted_proxies),
    )
    log.info("serving %s on %s:%s", service.name, settings.http_host, settings.http_port)
    exit_on_sigterm()
    try:
        http.run()  # until SIGTERM or Ctrl+C; waitress then finishes the requests in hand
    finally:
        _shut_down(settings, runtime, workers, probes)
    return 0


def work(settings: Settings, service: ServiceSpec, relay: bool = True, workers: bool = True) -> int:
    """Background workers only (`worker`), or the outbox relay only (`relay`), until SIGTERM."""
    runtime = _runtime(settings, service)
    if workers:
        _warm_up(service, runtime)
    background = Background.of(service, runtime, relay=relay, workers=workers).start()
    probes = _probes(settings, runtime, service.collectors(runtime), background)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("%s workers running", service.name)
    stop.wait()
    log.info("%s workers stopping: finishing what they hold", service.name)
    _shut_down(settings, runtime, background, probes)
    return 0


def _shut_down(settings: Settings, runtime, workers: Background, probes: ProbeListener | None) -> None:
    """Workers first (they may still write), then the pool; the probes answer until the end."""
    workers.stop(settings.shutdown_grace_seconds)
    runtime.pool.close()
    if probes is not None:
        probes.stop()
    log.info("stopped")
