"""services/common/db.py's statement builders against the real PostgreSQL: rows of several tables
written by one statement, in order, each table once."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from services.common.db import create_pool, insert_together, numbered
from tests.support.statements import sent_statements


def test_rows_of_several_tables_go_in_one_statement_in_their_order(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TEMP TABLE notes (id bigserial, body text)")
        conn.execute("CREATE TEMP TABLE tags (id bigserial, name text, weight int)")

        insert_together(
            conn,
            [
                ("INSERT INTO notes (body) VALUES", [("first",), ("second",), ("third",)]),
                ("INSERT INTO tags (name, weight) VALUES", []),  # no rows: left out
                ("INSERT INTO tags (name, weight) VALUES", [("a", 1), ("b", 2)]),
            ],
        )

        assert conn.execute("SELECT body FROM notes ORDER BY id").fetchall() == [
            ("first",),
            ("second",),
            ("third",),
        ]
        assert conn.execute("SELECT name, weight FROM tags ORDER BY id").fetchall() == [("a", 1), ("b", 2)]


def test_one_part_with_rows_is_a_plain_insert_and_none_sends_nothing(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TEMP TABLE notes (id bigserial, body text)")
        insert_together(conn, [("INSERT INTO notes (body) VALUES", [])])
        insert_together(
            conn, [("INSERT INTO notes (body) VALUES", [("only",)]), ("INSERT INTO notes (body) VALUES", [])]
        )
        assert conn.execute("SELECT body FROM notes").fetchall() == [("only",)]


def test_a_change_goes_first_in_the_same_statement_as_the_rows(db_url, monkeypatch):
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TEMP TABLE notes (id bigserial, body text)")
        conn.execute("CREATE TEMP TABLE tags (id int, name text)")
        conn.execute("INSERT INTO tags VALUES (1, 'old')")
        with sent_statements(monkeypatch) as statements:
            insert_together(
                conn,
                [("INSERT INTO notes (body) VALUES", [("claimed",)])],
                [("UPDATE tags SET name = %s WHERE id = %s", ("new", 1))],
            )

        assert len(statements) == 1
        assert conn.execute("SELECT name FROM tags").fetchall() == [("new",)]
        assert conn.execute("SELECT body FROM notes").fetchall() == [("claimed",)]


def test_a_checked_change_goes_in_the_same_statement_and_says_whether_it_found_its_row(db_url, monkeypatch):
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TEMP TABLE notes (id bigserial, body text)")
        conn.execute("CREATE TEMP TABLE tags (id int, name text, revision int)")
        conn.execute("INSERT INTO tags VALUES (1, 'old', 1), (2, 'other', 1)")
        guarded = "UPDATE tags SET name = %s, revision = revision + 1 WHERE id = %s AND revision = %s"
        with sent_statements(monkeypatch) as statements:
            found = insert_together(
                conn,
                [("INSERT INTO notes (body) VALUES", [("saved",)])],
                [("UPDATE tags SET name = %s WHERE id = %s", ("changed", 2))],
                [(guarded, ("new", 1, 1))],
            )
            stale = insert_together(
                conn, [("INSERT INTO notes (body) VALUES", [("late",)])], [], [(guarded, ("x", 1, 1))]
            )
            alone = insert_together(conn, [], [], [(guarded, ("newer", 1, 2))])

        assert (found, stale, alone) == (1, 0, 1)
        assert len(statements) == 3
        assert conn.execute("SELECT name, revision FROM tags ORDER BY id").fetchall() == [
            ("newer", 3),
            ("changed", 1),
        ]
        # The other parts are written whatever the check found: the caller rolls back when it must.
        assert conn.execute("SELECT body FROM notes ORDER BY id").fetchall() == [("saved",), ("late",)]


def test_a_pooled_connection_is_checked_only_after_it_sat_idle_and_goes_back_in_the_callers_thread(
    db_url, monkeypatch
):
    checked, tasks = [], []
    monkeypatch.setattr(
        ConnectionPool, "check_connection", classmethod(lambda cls, conn: checked.append(conn))
    )
    with create_pool(db_url, 1, 1, name="test-checks") as pool:
        with pool.connection() as conn:  # a new connection, never given back: checked
            conn.execute("SELECT 1")
        monkeypatch.setattr(pool, "run_task", tasks.append)  # the pool's worker thread gets nothing to do
        with pool.connection() as again:  # just given back: not checked
            again.execute("SELECT 1")
        pool._checks.after = 0.0  # as if it had sat idle
        with pool.connection() as idle:
            idle.execute("SELECT 1")
        monkeypatch.undo()

    assert again is conn and idle is conn
    assert checked == [conn, conn] and tasks == []


def test_a_statement_of_our_own_is_numbered_once_with_its_percent_signs_kept():
    text = "SELECT %s, %s WHERE note LIKE 'a%%'"

    assert numbered(text) == "SELECT $1, $2 WHERE note LIKE 'a%'"
    with pytest.raises(ValueError, match="only %s placeholders"):
        numbered("SELECT %(name)s")
