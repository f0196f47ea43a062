"""Broker connections: publisher confirms on AMQP, the in-memory transport for the one-process run."""

from __future__ import annotations

from amqp.exceptions import AMQPError
from kombu import Connection
from kombu.exceptions import OperationalError

# What a broker that is away, or refuses us for a while, raises: kombu's own errors, sockets', and
# py-amqp's protocol errors, which kombu passes on as they are when it deems them irrecoverable
# (NOT_ALLOWED or ACCESS_REFUSED while a vhost's permissions are being changed). A relay waits all
# of them out; the audit says it could not check.
BROKER_OUTAGES: tuple[type[Exception], ...] = (OperationalError, OSError, AMQPError)

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
        # A consumer sends heartbeats as it drains (kombu's loop checks them every second); a
        # publisher that idles between batches (a relay waiting for its next wake) would not, and
        # the broker would drop its connection after two missed beats, failing the next publish.
        # It runs without them: a dead connection fails its publish or its confirms' wait, and the
        # relay reconnects and sends again.
        heartbeat=30 if confirm_each else 0,
        connect_timeout=5,
        transport_options={"confirm_publish": confirm_each},
    )
