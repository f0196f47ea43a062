"""A real IMAP server for a test: Debian's dovecot, one mailbox of its own.

Each server is a dovecot master in the foreground (`dovecot -F`), a child of the test process, with
its configuration, run and state folders and the mail (Maildir) in a temporary folder, one user in a
passwd-file, listening on a free port of 127.0.0.1 without TLS. `./dev test` installs dovecot-imapd
when it is missing (as root). Messages are delivered with IMAP APPEND, as a mail server's delivery
agent would leave them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from imap_tools import MailBoxUnencrypted

from tests.support.processes import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
NOBODY = 65534  # dovecot refuses to keep mail as root: a test run as root keeps it as nobody

CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
first_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/users
  default_fields = uid={uid} gid={gid} home={dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT)


class ImapServer:
    """dovecot on 127.0.0.1:<free port> with one user; stop() ends it and removes its folder."""

    user = "complaints@mall.test"
    secret = "mailbox-secret"
    folder = "INBOX"

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="mall-imap-"))
        self.dir.chmod(0o755)  # dovecot's login processes run as dovenull and must reach run/
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> ImapServer:
        uid, gid = (NOBODY, NOBODY) if os.getuid() == 0 else (os.getuid(), os.getgid())
        for name in ("mail", "home"):
            (self.dir / name).mkdir()
            os.chown(self.dir / name, uid, gid)
        (self.dir / "users").write_text(f"{self.user}:{{PLAIN}}{self.secret}::::\n")
        config = self.dir / "dovecot.conf"
        config.write_text(CONFIG.format(dir=self.dir, port=self.port, uid=uid, gid=gid))
        log = (self.dir / "master.log").open("w")
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        self._wait()
        return self

    def _wait(self, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("dovecot stopped: " + (self.dir / "master.log").read_text())
            try:
                with self.mailbox():
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port} within {seconds} s")

    def mailbox(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted("127.0.0.1", self.port).login(
            self.user, self.secret, initial_folder=self.folder
        )

    def deliver(self, *messages: bytes) -> None:
        with self.mailbox() as box:
            for message in messages:
                box.append(message, self.folder, flag_set=())

    def flags(self) -> dict[str, tuple[str, ...]]:
        """Each message's flags by UID, read without changing them."""
        with self.mailbox() as box:
            return {msg.uid: msg.flags for msg in box.fetch(mark_seen=False, headers_only=True)}

    def stop(self) -> None:
        if self.process is not None:
            # dovecot's imap processes outlive their master by design (open connections keep going),
            # and it leaves the process group it was given: its children are ended one by one.
            children = _children(self.process.pid)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found
