"""One scrape: this process's metrics (or every gunicorn worker's), plus a service's live collectors."""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class _ProcessMetrics:
    """The process's own registry as one collector of a scrape's registry."""

    def collect(self):
        return REGISTRY.collect()


def render(collectors: Iterable = ()) -> tuple[bytes, str]:
    """The text exposition of one scrape, and its content type.

    With PROMETHEUS_MULTIPROC_DIR set (gunicorn), counters and histograms are summed over the files
    every worker process writes there; otherwise they are this process's own.
    """
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROCESS_VARIABLE):
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    registry.register(_Merged(list(collectors)))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Merged:
    """Several collectors as one, families of the same name joined (each reports its
    `mall_collector_up`, and a family may appear only once in an exposition)."""

    def __init__(self, collectors: list):
        self.collectors = collectors

    def collect(self):
        families: dict[str, Metric] = {}
        for collector in self.collectors:
            for family in collector.collect():
                if family.name in families:
                    families[family.name].samples.extend(family.samples)
                else:
                    families[family.name] = family
        return list(families.values())
