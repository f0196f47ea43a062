"""gunicorn settings for an API in several worker processes, with metrics summed over them.

    mkdir -p /tmp/metrics && PROMETHEUS_MULTIPROC_DIR=/tmp/metrics \\
        gunicorn -c python:services.common.observability.gunicorn -w 4 -b 0.0.0.0:8000 \\
        'services.intake.wsgi:create_wsgi_app()'

Each worker writes its counters and histograms to files in PROMETHEUS_MULTIPROC_DIR; /metrics, on
whichever worker answers, sums them (services/common/observability/exposition.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import multiprocess

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# A listening socket of each worker's own (SO_REUSEPORT), so that the kernel spreads connections
# over the workers. With one shared socket the worker that wakes first accepts every connection in
# the queue: 8 keep-alive clients (or a gateway's pooled connections) then all land on one worker,
# which runs them under one GIL on one core while the other workers idle.
reuse_port = True


def on_starting(server) -> None:
    """Start from empty files: those of an earlier run would be summed into this one's."""
    folder = os.environ.get(MULTIPROCESS_VARIABLE)
    if not folder:
        raise RuntimeError(f"{MULTIPROCESS_VARIABLE} must name an existing directory under gunicorn")
    for stale in Path(folder).glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    """A worker that exits stops counting in live gauges (its counters stay in the sum)."""
    multiprocess.mark_process_dead(worker.pid)
