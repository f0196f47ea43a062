"""Migrations and the command line, against the real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql

from services.common.migrations import apply_migrations
from services.registry import all_schemas
from tests.conftest import SECRET, _admin, database_url


def run_cli(*args: str, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        env={**os.environ, "LOG_LEVEL": "WARNING", **(env or {})},
    )


def test_migrations_already_applied_are_not_applied_again(db_url):
    assert apply_migrations(db_url, all_schemas()) == {
        "identity": 0,
        "intake": 0,
        "routing": 0,
        "notify": 0,
        "reporting": 0,
    }


def test_processes_migrating_an_empty_database_at_once_apply_each_migration_once():
    name = f"mall_test_concurrent_migrations_{uuid.uuid4().hex[:8]}"
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = database_url(name)
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(lambda _: run_cli("migrate", env={"DATABASE_URL": url}), range(3)))
        assert [result.returncode for result in results] == [0, 0, 0], [r.stderr for r in results]
        with psycopg.connect(url) as conn:
            applied = conn.execute("SELECT count(*) FROM intake._yoyo_migration").fetchone()[0]
        assert applied == 4  # the bus's outbox/inbox, intake's own tables, the case holders, its outbox index
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_cli_creates_users_and_issues_tokens_that_the_api_accepts(db_url, client):
    env = {"DATABASE_URL": db_url, "AUTH_SECRET": SECRET, "MALL_ID": "demo"}

    created = run_cli("user", "create", "li.jing", "--role", "service_desk", "--name", "李静", env=env)
    listed = run_cli("user", "list", env=env)
    token = run_cli("token", "user", "li.jing", env=env).stdout.strip()

    assert created.returncode == 0, created.stderr
    assert "li.jing\tservice_desk" in listed.stdout
    response = client.get("/complaints", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_the_cli_refuses_a_floor_supervisor_without_floors_and_an_unknown_role(db_url):
    env = {"DATABASE_URL": db_url, "AUTH_SECRET": SECRET}

    no_floor = run_cli("user", "create", "zhang", "--role", "floor_supervisor", env=env)
    unknown = run_cli("user", "create", "zhao", "--role", "janitor", env=env)

    assert no_floor.returncode == 1 and "floor supervisor needs floors" in no_floor.stderr
    assert unknown.returncode == 1 and "role" in unknown.stderr


def test_a_bad_setting_stops_the_command_with_a_message_naming_it(db_url):
    result = run_cli("migrate", env={"DATABASE_URL": db_url, "POLICY_MAJOR_AMOUNT": "lots"})

    assert result.returncode == 2
    assert "POLICY_MAJOR_AMOUNT='lots' is not valid" in result.stderr


def test_a_short_auth_secret_is_refused(db_url):
    result = run_cli("token", "service", "routing", env={"DATABASE_URL": db_url, "AUTH_SECRET": "short"})

    assert result.returncode == 2 and "AUTH_SECRET must be at least 32 characters" in result.stderr


def test_the_seed_command_loads_a_reference_file(db_url):
    result = run_cli("seed", env={"DATABASE_URL": db_url})

    assert result.returncode == 0, result.stderr
    assert "41 merchants" in result.stdout
