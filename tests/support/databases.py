"""The tests' databases: each a clone of the migrated template, made one test ahead and dropped
after its test, in a thread beside the tests.

Cloning the template (about 10 MB, WAL-logged) and dropping a database the test's pools have just
left take 0.2–1 s each on two busy cores, and a thousand tests need one each. Neither has to hold
the test up: while one test runs, the thread clones the next one's database and drops the last
one's. What a test gets is unchanged: a database nobody used before it, with every migration.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from psycopg import sql

from tests.support.servers import ADMIN_URL


def admin(statement: sql.Composable) -> None:
    """One statement on the server's maintenance database, outside any transaction."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


class DatabaseSupply:
    """Databases cloned from `template` one ahead; `take()` a name, `give_back(name)` when done."""

    def __init__(self, template: str, prefix: str = "mall_test"):
        self.template, self.prefix = template, prefix
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.next: Future[str] = self.thread.submit(self._clone)

    def take(self) -> str:
        name = self.next.result()  # a clone that failed raises here, in the test that needed it
        self.next = self.thread.submit(self._clone)
        return name

    def give_back(self, name: str) -> None:
        self.thread.submit(self._drop, name)

    def close(self) -> list[str]:
        """Drop the clone made ahead and wait for every drop; what could not be dropped, said."""
        try:
            self._drop(self.next.result())
        except Exception as exc:  # said with the others
            self._failed(f"the last clone: {exc}")
        self.thread.shutdown(wait=True)
        return self.failures

    def _clone(self) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:12]}"
        admin(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(self.template)
            )
        )
        return name

    def _drop(self, name: str) -> None:
        try:
            admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except psycopg.Error as exc:
            self._failed(f"{name}: {exc}")

    def _failed(self, text: str) -> None:
        with self.lock:
            self.failures.append(text)
