"""bench/intake.py's load on POST /complaints: wrk with a Lua script that counts every non-201, or a
Python multi-process keep-alive client when wrk is missing.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import os
import shutil
import subprocess
import time
from pathlib import Path

from bench.common import _percentile
from bench.intake_server import BODY, Level, _ms_or_none

# --------------------------------------------------------------------------- load: wrk

WRK_SCRIPT = """
local f = assert(io.open({body_path}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = {authorization}

local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) created = 0; other = 0 end
function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do c = c + t:get("created"); o = o + t:get("other") end
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"created": %d, "other": %d, "duration_us": %d, "socket_errors": %d, '
    .. '"timeouts": %d, "p50_us": %d, "p99_us": %d}}\\n',
    c, o, summary.duration, e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def find_wrk(allow_install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not allow_install or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    print("wrk is not installed: trying apt-get install -y wrk ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "timeout": 180}
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, **quiet).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, **quiet)
            subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, **quiet)
    return shutil.which("wrk")


def drive_wrk(
    wrk: str, port: int, token: str, clients: int, seconds: float, workdir: Path, wrk_threads: int
) -> Level:
    body_path = workdir / "body.json"
    body_path.write_text(json.dumps(BODY, ensure_ascii=False), encoding="utf-8")
    script = workdir / "post.lua"
    script.write_text(
        WRK_SCRIPT.format(body_path=json.dumps(str(body_path)), authorization=json.dumps(f"Bearer {token}"))
    )
    threads = max(1, min(clients, wrk_threads))
    command = [
        wrk,
        f"-t{threads}",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/complaints",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len("BENCH ") :])
    level = Level(
        clients,
        ok=data["created"],
        errors=data["other"] + data["socket_errors"] + data["timeouts"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )
    if data["socket_errors"] or data["timeouts"]:
        level.notes.append(f"{data['socket_errors']} socket errors, {data['timeouts']} timeouts")
    return level


# --------------------------------------------------------------------------- load: Python


def _python_client(port: int, token: str, start_at: float, stop_at: float, out) -> None:
    """One keep-alive connection posting complaints until stop_at (a child process)."""
    with contextlib.suppress(KeyboardInterrupt):
        body = json.dumps(BODY, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        latencies: list[float] = []
        created = errors = 0
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < stop_at:
            began = time.perf_counter()
            try:
                conn.request("POST", "/complaints", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            latencies.append(time.perf_counter() - began)
            if status == 201:
                created += 1
            else:
                errors += 1
        conn.close()
        out.put((created, errors, latencies))


def drive_python(port: int, token: str, clients: int, seconds: float) -> Level:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    start_at = time.time() + 0.5 + 0.05 * clients
    stop_at = start_at + seconds
    children = [
        context.Process(target=_python_client, args=(port, token, start_at, stop_at, out), daemon=True)
        for _ in range(clients)
    ]
    for child in children:
        child.start()
    try:
        results = [out.get(timeout=seconds + 30 + 0.05 * clients) for _ in children]
    finally:
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.kill()
    latencies = sorted(x for _, _, batch in results for x in batch)
    return Level(
        clients,
        ok=sum(r[0] for r in results),
        errors=sum(r[1] for r in results),
        seconds=seconds,
        p50_ms=_ms_or_none(_percentile(latencies, 0.50)),
        p99_ms=_ms_or_none(_percentile(latencies, 0.99)),
    )
