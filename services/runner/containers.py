"""Commands a container platform runs around the services: the health probe, the wait for migrations."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request

import psycopg

from services.common.migrations import pending_migrations
from services.common.settings import Settings


def wait_for_migrations(settings: Settings, schemas: list[str], seconds: float) -> int:
    """Poll until no migration of `schemas` is pending; 1 if some still are after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        waiting = _pending(settings.database_url, schemas)
        if not waiting:
            print(f"migrations applied: {', '.join(schemas)}")
            return 0
        if time.monotonic() >= deadline:
            print(f"error: still waiting after {seconds:g} s: {waiting}", file=sys.stderr)
            return 1
        time.sleep(min(2.0, max(deadline - time.monotonic(), 0)))


def _pending(database_url: str, schemas: list[str]) -> str:
    """What is still pending, for a person ("" when nothing); a database not up yet is waited for."""
    try:
        counts = pending_migrations(database_url, schemas)
    except psycopg.OperationalError as exc:
        return f"the database does not answer ({str(exc).strip()[:200]})"
    return ", ".join(f"{schema} ({count} pending)" for schema, count in counts.items() if count)


def probe(settings: Settings, ready: bool) -> int:
    """GET /healthz (or /readyz) of this container's process: its probe port, else its HTTP port."""
    port = settings.metrics_port or settings.http_port
    url = f"http://127.0.0.1:{port}/{'readyz' if ready else 'healthz'}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(f"{url}: {exc.code} {exc.read().decode()}", file=sys.stderr)
    except OSError as exc:
        print(f"{url}: {exc}", file=sys.stderr)
    return 1
