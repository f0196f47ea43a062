"""A real S3 API server for the tests: moto's server mode (`moto[server]`), in the test process on
127.0.0.1:<free port>, speaking HTTP as MinIO does; each test gets a bucket of its own."""

from __future__ import annotations

import uuid

from moto.server import ThreadedMotoServer

from services.common.objects import S3Store
from tests.support.processes import free_port

ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


class S3Server:
    def __init__(self):
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        try:
            self._server.start()
        except OSError as exc:  # say what is missing instead of a stack of socket errors
            raise RuntimeError(f"moto's S3 server could not start on 127.0.0.1:{self.port}: {exc}") from exc
        return self

    def stop(self) -> None:
        self._server.stop()

    def new_store(self) -> S3Store:
        """A store on a bucket no other test uses (made on first use, as in production)."""
        return S3Store(self.url, f"test-{uuid.uuid4().hex[:16]}", ACCESS_KEY, SECRET_KEY, "us-east-1")
