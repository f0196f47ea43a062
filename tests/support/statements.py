"""Counting the statements a piece of code sends, whichever cursor sends them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg


@contextlib.contextmanager
def sent_statements(monkeypatch) -> Iterator[list[str]]:
    """The text of each statement executed in the block (by `conn.execute` or any cursor)."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def recorded(cursor, query, params=None, **kwargs):
        sent.append(query if isinstance(query, str) else query.as_string(cursor))
        return execute(cursor, query, params, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(psycopg.Cursor, "execute", recorded)
        yield sent
