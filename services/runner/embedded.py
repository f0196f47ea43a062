"""The one-command default: an embedded PostgreSQL when no DATABASE_URL is set."""

from __future__ import annotations

import logging
import os
import secrets
import warnings
from pathlib import Path

log = logging.getLogger(__name__)


def start_embedded_postgres(data_dir: Path):
    """Start (or reuse) the pgserver cluster under data_dir/pg; return the server handle."""
    # Imported here: only the one-process run needs it. Its platformdirs dependency warns when
    # XDG_RUNTIME_DIR is unset (containers, CI), which says nothing useful to the person running it.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver

    pgdata = data_dir / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata)})
    return pgserver.get_server(pgdata, cleanup_mode="stop")


def local_auth_secret(data_dir: Path) -> str:
    """A random signing secret kept in the data folder, so demo tokens survive a restart."""
    return _local_secret(data_dir / "auth-secret", secrets.token_urlsafe(48))


def local_demo_password(data_dir: Path) -> str:
    """The demo staff's password for the console, random per data folder (never a known default)."""
    return _local_secret(data_dir / "demo-password", "demo-" + secrets.token_urlsafe(9))


def _local_secret(path: Path, new_value: str) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(new_value)
    return new_value
