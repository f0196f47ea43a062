"""services/common/db.py's statement builders against the real PostgreSQL: rows of several tables
written by one statement, in order, each table once."""

from __future__ import annotations

import psycopg

from services.common.db import insert_together


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


def test_a_change_goes_first_in_the_same_statement_as_the_rows(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TEMP TABLE notes (id bigserial, body text)")
        conn.execute("CREATE TEMP TABLE tags (id int, name text)")
        conn.execute("INSERT INTO tags VALUES (1, 'old')")
        statements = []
        original = conn.execute

        def counted(query, params=None, **kwargs):
            statements.append(query)
            return original(query, params, **kwargs)

        conn.execute = counted
        insert_together(
            conn,
            [("INSERT INTO notes (body) VALUES", [("claimed",)])],
            [("UPDATE tags SET name = %s WHERE id = %s", ("new", 1))],
        )
        conn.execute = original

        assert len(statements) == 1
        assert conn.execute("SELECT name FROM tags").fetchall() == [("new",)]
        assert conn.execute("SELECT body FROM notes").fetchall() == [("claimed",)]
