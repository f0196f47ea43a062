"""Starting the services as real processes, the way the README and the containers do."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

# Settings a developer's shell might carry; a test sets what it wants explicitly.
SERVER_VARIABLES = ("DATABASE_URL", "AMQP_URL", "AUTH_SECRET", "SMTP_URL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting up
        return False


def start(args: list[str], env: dict, log: Path, cwd: Path | None = None) -> subprocess.Popen:
    """`python -m services ARGS` with a clean environment plus `env`, output to `log`."""
    base = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    return subprocess.Popen(
        [sys.executable, "-m", "services", *args],
        env={**base, "LOG_JSON": "false", "LOG_LEVEL": "INFO", **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=cwd,
    )


def run(
    args: list[str], env: dict, timeout: float = 120, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    return subprocess.run(
        [sys.executable, "-m", "services", *args],
        env={**base, "LOG_LEVEL": "WARNING", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        input=input,
    )


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, and the exit code once it has finished what it was doing."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
