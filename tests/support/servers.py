"""Where the tests' PostgreSQL and RabbitMQ are: one set of settings for every test and bench/faults.py.

TEST_DATABASE_URL   a superuser's URL of the PostgreSQL server (default: the local one, user postgres)
TEST_AMQP_URL       the RabbitMQ server, without a vhost (default: the local one, user guest)
TEST_RABBITMQ_NODE  the node `rabbitmqctl` adds and deletes the tests' vhosts on (default: rabbitmqctl's
                    own default, the local node `rabbit@<host name>`)

The fault tests reach both servers through TCP proxies to the host and port these URLs name.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
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


_VHOST_NAME = re.compile(r"^[a-z0-9_]+$")  # what VhostPool names; quoted into an Erlang expression below


class VhostPool:
    """Fresh vhosts for the tests of one process, made and removed a batch per `rabbitmqctl` call.

    Every `rabbitmqctl` call starts an Erlang VM of its own: about 0.7 s of CPU, three of them per
    test (add, permit, delete) on a machine whose two cores run the suite. So vhosts are made
    `batch` at a time from a definitions file (`import_definitions`, each with the user's
    permissions), and a used one is deleted with the next `batch` of used ones in one `eval`
    (`delete_vhosts`). Each test still has a vhost nobody used before it.
    """

    def __init__(self, prefix: str, batch: int = 8):
        if not _VHOST_NAME.match(prefix):
            raise ValueError(f"vhost prefix {prefix!r}: lower-case letters, digits and _ only")
        self.prefix, self.batch = prefix, batch
        self.fresh: list[str] = []
        self.used: list[str] = []
        self.made = 0

    def take(self) -> str:
        """A vhost no test used, its URL."""
        if not self.fresh:
            names = [f"{self.prefix}_{self.made + n}" for n in range(self.batch)]
            add_vhosts(names)
            self.made += len(names)
            self.fresh = names[::-1]
        return f"{AMQP_BASE}/{self.fresh.pop()}"

    def give_back(self, url: str) -> None:
        """The test is over: its vhost goes with the next batch of used ones."""
        self.used.append(urlsplit(url).path.lstrip("/"))
        if len(self.used) >= self.batch:
            self._delete(self.used)
            self.used = []

    def close(self) -> None:
        self._delete(self.used + self.fresh)
        self.used, self.fresh = [], []

    @staticmethod
    def _delete(names: list[str]) -> None:
        if names:
            delete_vhosts(names)


def add_vhosts(names: list[str], timeout: float = 60) -> None:
    """Several vhosts, each the user of TEST_AMQP_URL may use fully, in one `rabbitmqctl` call."""
    user = urlsplit(AMQP_BASE).username or "guest"
    definitions = {
        "vhosts": [{"name": name} for name in names],
        "permissions": [
            {"user": user, "vhost": name, "configure": ".*", "write": ".*", "read": ".*"} for name in names
        ],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as file:
        json.dump(definitions, file)
        file.flush()
        os.chmod(file.name, 0o644)  # rabbitmqctl may read it as another user
        rabbitmqctl("import_definitions", file.name, timeout=timeout)


def delete_vhosts(names: list[str], timeout: float = 60) -> None:
    """Several vhosts deleted in one `rabbitmqctl eval`; one `delete_vhost` each where eval fails
    (a server whose internals differ)."""
    if not all(_VHOST_NAME.match(name) for name in names):
        raise ValueError(f"not a pool's vhost: {names}")
    binaries = ", ".join(f'<<"{name}">>' for name in names)
    expression = f'lists:foreach(fun(V) -> rabbit_vhost:delete(V, <<"tests">>) end, [{binaries}]).'
    try:
        rabbitmqctl("eval", expression, timeout=timeout)
    except subprocess.CalledProcessError:
        for name in names:
            delete_vhost(name, timeout=timeout)
