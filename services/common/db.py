"""The PostgreSQL connection pool and the error translation at the database edge."""

from __future__ import annotations

import contextlib
import functools
import itertools
import re
import time
import weakref
from collections.abc import Iterator, Sequence

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from services.common.errors import ConfigurationError, Unavailable

# A connection handed back to the pool less than this many seconds ago is not checked again when it
# is taken out (as HikariCP's "alive bypass window"): under load the check would cost every request
# a round trip, for the connection that has just worked and so is the least likely to be broken.
CHECK_IDLE_AFTER = 1.0


class _CheckWhenIdle:
    """The pool's `check` callback: check a connection idle for CHECK_IDLE_AFTER."""

    def __init__(self, after: float = CHECK_IDLE_AFTER):
        self.after = after
        self._returned: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()

    def returned(self, conn: psycopg.Connection) -> None:
        self._returned[conn] = time.monotonic()

    def check(self, conn: psycopg.Connection) -> None:
        returned = self._returned.get(conn)
        if returned is None or time.monotonic() - returned >= self.after:
            ConnectionPool.check_connection(conn)


class _Pool(ConnectionPool):
    """psycopg's pool, noting when each connection comes back for `_CheckWhenIdle`, in the thread
    that gives it back. (A `reset` callback could note it too, but then the pool hands every
    return to its worker thread: a thread switch after each transaction.)"""

    def __init__(self, *args, checks: _CheckWhenIdle, **kwargs):
        self._checks = checks
        super().__init__(*args, check=checks.check, **kwargs)

    def putconn(self, conn: psycopg.Connection) -> None:
        self._checks.returned(conn)
        super().putconn(conn)


def create_pool(
    database_url: str, min_size: int = 1, max_size: int = 10, name: str = "mall", timeout: float = 10.0
) -> ConnectionPool:
    """A pool of dict-row connections; opened lazily so nothing connects at import. `timeout` is how
    long taking a connection may wait (PoolTimeout, which `translate_errors` makes Unavailable)."""
    return _Pool(
        conninfo=database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "autocommit": False},
        name=name,
        timeout=timeout,
        open=False,
        checks=_CheckWhenIdle(),
    )


def pool_from_settings(settings, name: str, pool: ConnectionPool | None = None) -> ConnectionPool:
    """The given pool, or a new one for DATABASE_URL; a clear error when neither exists."""
    if pool is not None:
        return pool
    if not settings.database_url:
        raise ConfigurationError("DATABASE_URL is required")
    return create_pool(
        settings.database_url,
        settings.db_pool_min,
        settings.db_pool_max,
        name=name,
        timeout=settings.db_pool_timeout,
    )


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn a database that does not answer into our Unavailable error."""
    try:
        yield
    except PoolTimeout as exc:
        raise Unavailable("the database does not answer") from exc
    except psycopg.OperationalError as exc:
        raise Unavailable(f"the database does not answer: {exc}") from exc


def ping(pool: ConnectionPool) -> None:
    """Raise Unavailable unless the database answers a trivial query."""
    with translate_errors(), pool.connection(timeout=2) as conn:
        conn.execute("SELECT 1")


@contextlib.contextmanager
def each_statement_alone(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A pooled connection on which each statement is a transaction of its own, for work that is
    one statement (no BEGIN and COMMIT around it); given back as `out_of_autocommit` says."""
    with pool.connection() as conn:
        conn.autocommit = True
        try:
            yield conn
        finally:
            out_of_autocommit(conn)


def out_of_autocommit(conn: psycopg.Connection) -> None:
    """A connection lent in autocommit goes back to the pool out of it, or not at all (closed: the
    pool drops it): a writer given it in autocommit would commit each of its statements alone."""
    try:
        conn.autocommit = False
    except psycopg.Error:
        conn.close()


def insert_many(
    conn: psycopg.Connection, head: str, rows: list[tuple], tail: str = ""
) -> psycopg.Cursor | None:
    """Insert `rows` (tuples of one length) with `head`, an `INSERT INTO … VALUES` of our own
    without its rows, and `tail` after them (an `ON CONFLICT …` or `RETURNING …` of our own), as one
    statement: one round trip however many rows; its cursor. Nothing is sent for none."""
    if not rows:
        return None
    return run_numbered(
        conn, _insert_rows(head, len(rows[0]), len(rows), tail), [value for row in rows for value in row]
    )


def insert_together(
    conn: psycopg.Connection,
    parts: list[tuple[str, list[tuple]]],
    changes: Sequence[tuple[str, tuple]] = (),
    checked: Sequence[tuple[str, tuple]] = (),
) -> int:
    """Several `insert_many`s, each a head with its rows, as one statement (one round trip): all
    but the last as data-modifying WITH queries, which PostgreSQL runs exactly once each. Parts
    without rows are left out; nothing is sent when none has any. `changes` (an UPDATE of our own
    with its placeholders, and its values) go first, in the same statement; all of it sees one
    snapshot, so no part may touch a row another part writes.

    `checked` are changes whose caller must know they found their row (an UPDATE guarded by a
    revision, say): they go first of all, and the number of rows they changed is returned (0 when
    there are none)."""
    parts = [(head, rows) for head, rows in parts if rows]
    if len(parts) + len(changes) + len(checked) < 2:
        touched = sum(conn.execute(text, values).rowcount for text, values in checked)
        for text, values in changes:
            conn.execute(text, values)
        for head, rows in parts:
            insert_many(conn, head, rows)
        return touched
    shape = (
        tuple(text for text, _ in checked),
        tuple(text for text, _ in changes),
        tuple((head, len(rows[0]), len(rows)) for head, rows in parts),
    )
    values = [value for _, given in [*checked, *changes] for value in given]
    values += [value for _, rows in parts for row in rows for value in row]
    written = run_numbered(conn, _inserts_together(shape), values)
    return written.rowcount if checked else 0  # with none checked, the rows the last part inserted


@functools.lru_cache(maxsize=128)
def _inserts_together(
    shape: tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, int, int], ...]],
) -> str:
    """`insert_together`'s statement for one shape (composed once per shape): our own statements
    as WITH queries, c0… the checked ones, w0… the others."""
    checked, changes, inserts = shape
    statements = [*changes, *(_insert_rows(*part) for part in inserts)]
    if checked:  # every part a WITH query (each runs, read or not); a row per row the checked ones changed
        withs = [_with(f"c{place}", text + " RETURNING 1") for place, text in enumerate(checked)]
        withs += [_with(f"w{place}", text) for place, text in enumerate(statements)]
        last = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT 1 FROM {}").format(sql.Identifier(f"c{place}")) for place in range(len(checked))
        )
    else:
        *first, final = statements
        withs = [_with(f"w{place}", text) for place, text in enumerate(first)]
        last = sql.SQL(final)
    return sql.SQL("WITH {} {}").format(sql.SQL(", ").join(withs), last).as_string()


def run_numbered(conn: psycopg.Connection, text: str, values: Sequence) -> psycopg.Cursor:
    """Run a statement of our own with many values (a multi-row insert) without psycopg parsing it
    again: it caches its conversion of `%s` placeholders only for statements of at most 50
    values and 4 KB, and parsing longer ones on every call cost a consumer a tenth of its CPU. The
    text is converted to PostgreSQL's own placeholders once (`numbered`) and run by a raw cursor."""
    return psycopg.RawCursor(conn).execute(numbered(text), values)


_PLACEHOLDER = re.compile(r"%(s|%)?")


@functools.lru_cache(maxsize=256)
def numbered(text: str) -> str:
    """`text`, a statement with `%s` placeholders (and `%%` for a percent sign), with PostgreSQL's
    numbered placeholders ($1, $2 …) instead."""
    count = itertools.count(1)

    def replace(match: re.Match) -> str:
        if match.group(1) is None:
            raise ValueError(f"only %s placeholders can be numbered: {text[:80]!r}")
        return f"${next(count)}" if match.group(1) == "s" else "%"

    return _PLACEHOLDER.sub(replace, text)


def _with(name: str, statement: str) -> sql.Composed:
    return sql.SQL("{} AS ({})").format(sql.Identifier(name), sql.SQL(statement))


@functools.lru_cache(maxsize=128)
def _insert_rows(head: str, columns: int, rows: int, tail: str = "") -> str:
    """`head` followed by `rows` rows of `columns` placeholders, then `tail`. The text is composed
    once per shape, so psycopg's prepared statements serve it; the values always go as parameters."""
    row = sql.SQL("({})").format(sql.SQL(", ").join([sql.Placeholder()] * columns))
    text = sql.SQL(head) + sql.SQL(" ") + sql.SQL(", ").join([row] * rows)
    return (text + sql.SQL(" " + tail) if tail else text).as_string()
