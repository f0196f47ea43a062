"""A PostgreSQL cluster of bench/lifecycle.py's own, so that every statement can be counted.

`pg_stat_statements` needs `shared_preload_libraries`, which a shared server seldom has; this
starts a throwaway cluster (initdb and pg_ctl of the newest /usr/lib/postgresql/*/bin, a free port
on 127.0.0.1, trust authentication, the library preloaded) in a temporary folder, and removes it at
the end. The server's own defaults otherwise (fsync and synchronous_commit on, 128 MB of shared
buffers): the settings of the machine's shared server.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

OWNER = "postgres"  # initdb refuses to run as root: as root, the cluster belongs to this user


def binaries() -> Path | None:
    """The bin folder of the newest PostgreSQL installed with pg_stat_statements, if any."""
    found = []
    for folder in Path("/usr/lib/postgresql").glob("*/bin"):
        version = folder.parent.name
        library = folder.parent / "lib" / "pg_stat_statements.so"
        if (folder / "initdb").exists() and library.exists() and version.isdigit():
            found.append((int(version), folder))
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """initdb + pg_ctl start in a temporary folder; `stop()` stops it and removes the folder."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="mall_lifecycle_pg_"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.started = False
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam(OWNER)
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self.as_owner = ["runuser", "-u", OWNER, "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_owner, *args], check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> str:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale",
            "C.UTF-8",
        )
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.folder}",
                "-c shared_preload_libraries=pg_stat_statements",
                "-c pg_stat_statements.track=top",
                "-c pg_stat_statements.max=10000",
                "-c max_connections=200",
            ]
        )
        log = self.folder / "postgres.log"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start"
        )
        self.started = True
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return self.admin_url

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(Exception):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
