"""The probe listener, worker health, and prometheus_client's mode: no server needed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import requests
from prometheus_client.core import GaugeMetricFamily

from services.common.observability.collectors import LiveCollector
from services.common.observability.listener import ProbeListener
from services.runner.background import Background
from tests.support.deployment import sample


class Loop:
    """A worker that runs until stopped, connected once told so."""

    def __init__(self, name: str, connected: bool = True):
        self.name = name
        self.connected = connected
        self.stopping = threading.Event()

    def run(self) -> None:
        self.stopping.wait()

    def stop(self) -> None:
        self.stopping.set()

    def is_ready(self) -> bool:
        return self.connected


class Crashes:
    name = "crashes"

    def run(self) -> None:
        raise RuntimeError("a bug")

    def stop(self) -> None:
        pass


class Constant(LiveCollector):
    name = "constant"

    def measure(self):
        gauge = GaugeMetricFamily("mall_test_constant", "A test gauge.")
        gauge.add_metric([], 7)
        return [gauge]


class Broken(LiveCollector):
    name = "broken"

    def measure(self):
        raise OSError("the server does not answer")


def listener(workers: Background, collectors=()) -> ProbeListener:
    return ProbeListener("127.0.0.1", 0, workers.liveness, workers.readiness, collectors).start()


def test_the_probes_answer_ok_while_every_worker_runs_and_is_connected():
    workers = Background([Loop("consumer"), Loop("scheduler")]).start()
    probes = listener(workers)
    try:
        health = requests.get(f"http://127.0.0.1:{probes.port}/healthz", timeout=5)
        ready = requests.get(f"http://127.0.0.1:{probes.port}/readyz", timeout=5)
    finally:
        assert workers.stop(5) is True
        probes.stop()

    assert health.status_code == 200 and health.json()["checks"] == {"consumer": "ok", "scheduler": "ok"}
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_a_worker_thread_that_died_fails_liveness_and_one_not_connected_fails_readiness():
    workers = Background([Crashes(), Loop("consumer", connected=False)]).start()
    probes = listener(workers)
    try:
        workers.threads[0].join(5)
        health = requests.get(f"http://127.0.0.1:{probes.port}/healthz", timeout=5)
        ready = requests.get(f"http://127.0.0.1:{probes.port}/readyz", timeout=5)
    finally:
        workers.stop(5)
        probes.stop()

    assert health.status_code == 503 and health.json()["checks"]["crashes"] == "stopped"
    assert ready.status_code == 503 and ready.json()["checks"] == {"consumer": "not connected"}


def test_metrics_carry_the_process_and_the_live_collectors_and_one_broken_collector_spoils_nothing():
    probes = listener(Background([]), [Constant(), Broken()])
    try:
        response = requests.get(f"http://127.0.0.1:{probes.port}/metrics", timeout=5)
        elsewhere = requests.get(f"http://127.0.0.1:{probes.port}/anything", timeout=5)
    finally:
        probes.stop()

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert sample(response.text, "mall_test_constant") == 7
    assert sample(response.text, "mall_collector_up", collector="constant") == 1
    assert sample(response.text, "mall_collector_up", collector="broken") == 0
    assert response.text.count("# TYPE mall_collector_up gauge") == 1
    assert "process_cpu_seconds_total" in response.text
    assert elsewhere.status_code == 404


def test_the_probe_command_says_whether_the_process_on_its_port_is_healthy():
    workers = Background([Loop("consumer")]).start()
    probes = listener(workers)
    environment = {key: value for key, value in os.environ.items() if key != "HTTP_PORT"}

    def probe(port: int, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "services", "probe", *args],
            capture_output=True,
            text=True,
            env={**environment, "METRICS_PORT": str(port)},
            timeout=60,
        )

    try:
        healthy = probe(probes.port)
        ready = probe(probes.port, "--ready")
    finally:
        workers.stop(5)
        probes.stop()
    gone = probe(probes.port)

    assert healthy.returncode == 0 and '"status": "ok"' in healthy.stdout
    assert ready.returncode == 0
    assert gone.returncode == 1 and f"127.0.0.1:{probes.port}/healthz" in gone.stderr


def test_an_empty_multiprocess_directory_setting_means_unset_and_writes_no_metric_files(tmp_path):
    script = (
        "import services.routing.metrics\n"
        "from prometheus_client import values\n"
        "print(values.ValueClass.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": "", "PYTHONPATH": os.getcwd()},
        timeout=60,
    )

    assert result.stdout.strip() == "MutexValue", result.stderr
    assert list(tmp_path.iterdir()) == []
