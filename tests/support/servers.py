"""Where the tests' PostgreSQL and RabbitMQ are: one set of settings for every test and bench/faults.py.

TEST_DATABASE_URL   a superuser's URL of the PostgreSQL server (default: the local one, user postgres)
TEST_AMQP_URL       the RabbitMQ server, without a vhost (default: the local one, user guest)
TEST_RABBITMQ_NODE  the node `rabbitmqctl` adds and deletes the tests' vhosts on (default: rabbitmqctl's
                    own default, the local node `rabbit@<host name>`)

The fault tests reach both servers through TCP proxies to the host and port these URLs name.
"""

from __future__ import annotations

import os
import subprocess
from urllib.parse import urlsplit, urlunsplit

ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672")
RABBITMQ_NODE = os.environ.get("TEST_RABBITMQ_NODE") or None
DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "amqp": 5672, "amqps": 5671}


def host_port(url: str) -> tuple[str, int]:
    """(host, port) a URL names, with its scheme's default port."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORTS[parts.scheme]


def proxied(url: str, port: int) -> str:
    """The URL with 127.0.0.1:<port> (a TcpProxy's) for its host and port, credentials and path kept."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def rabbitmqctl(*args: str, timeout: float = 60) -> None:
    """`rabbitmqctl` on TEST_RABBITMQ_NODE (or its default node); raises if it fails."""
    node = ["-n", RABBITMQ_NODE] if RABBITMQ_NODE else []
    subprocess.run(["rabbitmqctl", "-q", *node, *args], check=True, capture_output=True, timeout=timeout)


def add_vhost(name: str, timeout: float = 60) -> str:
    """A RabbitMQ vhost the user of TEST_AMQP_URL may use fully; its URL."""
    rabbitmqctl("add_vhost", name, timeout=timeout)
    user = urlsplit(AMQP_BASE).username or "guest"
    rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*", timeout=timeout)
    return f"{AMQP_BASE}/{name}"


def delete_vhost(name: str, timeout: float = 60) -> None:
    rabbitmqctl("delete_vhost", name, timeout=timeout)
