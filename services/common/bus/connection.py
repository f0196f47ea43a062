"""Broker connections: publisher confirms on AMQP, the in-memory transport for the one-process run."""

from __future__ import annotations

from kombu import Connection

MEMORY_URL = "memory://localhost/"  # with a host, so kombu does not warn that none was given


def is_memory(url: str) -> bool:
    return url.startswith("memory://")


def broker_connection(url: str | None, confirm_each: bool = True) -> Connection:
    """A kombu connection; with AMQP, every publish waits for the broker's confirm, unless
    `confirm_each` is False: for a publisher that waits for a batch's confirms itself (see
    confirms.py)."""
    url = url or MEMORY_URL
    if is_memory(url):
        return Connection(url, transport_options={"polling_interval": 0.05})
    return Connection(
        url,
        heartbeat=30,
        connect_timeout=5,
        transport_options={"confirm_publish": confirm_each},
    )
