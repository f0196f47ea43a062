"""Every service in this test's process, as `run` builds them, on the test's database and clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from services.allinone import build, deploy_mall_diagram, load_demo

DEMO_PASSWORD = "demo-password-for-tests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def in_process_system(settings, clock, data_dir, **changes) -> Iterator[tuple[dict, object]]:
    """(runtimes, wsgi app): the demo mall and staff (password DEMO_PASSWORD) and the diagram loaded."""
    settings = replace(settings, data_dir=str(data_dir), **changes)
    runtimes, wsgi = build(settings, clock)
    try:
        load_demo(settings, runtimes["intake"], DEMO_PASSWORD)
        deploy_mall_diagram(runtimes["routing"])
        yield runtimes, wsgi
    finally:
        for runtime in runtimes.values():
            runtime.pool.close()


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)
