"""Migrations and the command line, against the real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from yoyo import get_backend, read_migrations

from services.common.errors import Unauthorized
from services.common.identity.users import UserStore
from services.common.migrations import MIGRATION_SOURCES, _ensure_schema, _yoyo_url, apply_migrations
from services.runner.registry import all_schemas
from tests.conftest import SECRET, _admin, database_url

INTAKE_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "intake" / "migrations"


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
        # the bus's outbox/inbox migrations, then each of intake's own, once
        assert applied == sum(len(list(folder.glob("*.sql"))) for folder in MIGRATION_SOURCES["intake"])
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _migrate_intake_without(database_url: str, migration_id: str) -> None:
    """Intake's schema as an installation had it before `migration_id` was written."""
    _ensure_schema(database_url, "intake")
    backend = get_backend(_yoyo_url(database_url, "intake"))
    migrations = read_migrations(*(str(folder) for folder in MIGRATION_SOURCES["intake"]))
    try:
        with backend.lock():
            backend.apply_migrations(
                # not those of intake's written after it either: they may build on it (0007's search
                # column reads the request as the list 0004 made it); the bus's own ones all apply
                backend.to_apply(
                    migrations.filter(lambda each: not (each.id[:1].isdigit() and each.id >= migration_id))
                )
            )
    finally:
        backend.connection.close()


OLD_COMPLAINT = (
    "INSERT INTO intake.complaints (id, mall_id, number, channel, category, severity, status, customer,"
    " description, customer_request, promised_reply_date, received_at, received_by)"
    " VALUES (gen_random_uuid(), 'demo', %s, 'phone', 'price', 'normal', 'received', '{}', '贵', %s,"
    " '2026-11-25', now(), 'desk')"
)


def test_complaints_recorded_before_several_requests_keep_their_one_request_as_a_list(empty_database):
    _migrate_intake_without(empty_database, "0004.customer-requests")
    with psycopg.connect(empty_database, autocommit=True) as conn:
        conn.execute(OLD_COMPLAINT, ("TS-20261122-0001", "refund"))
        conn.execute(OLD_COMPLAINT, ("TS-20261122-0002", None))

    apply_migrations(empty_database, ["intake"])

    with psycopg.connect(empty_database) as conn:
        kept = conn.execute(
            "SELECT number, customer_request FROM intake.complaints ORDER BY number"
        ).fetchall()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE intake.complaints SET customer_request = '{}'")
    assert kept == [("TS-20261122-0001", ["refund"]), ("TS-20261122-0002", None)]


def test_the_cli_creates_users_and_issues_tokens_that_the_api_accepts(db_url, client):
    env = {"DATABASE_URL": db_url, "AUTH_SECRET": SECRET, "MALL_ID": "demo"}

    created = run_cli("user", "create", "li.jing", "--role", "service_desk", "--name", "李静", env=env)
    listed = run_cli("user", "list", env=env)
    token = run_cli("token", "user", "li.jing", env=env).stdout.strip()

    assert created.returncode == 0, created.stderr
    assert "li.jing\tservice_desk" in listed.stdout
    response = client.get("/complaints", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_the_cli_revokes_a_users_or_a_services_tokens_and_issues_none_to_an_inactive_user(db_url, intake):
    env = {"DATABASE_URL": db_url, "AUTH_SECRET": SECRET, "MALL_ID": "demo"}
    run_cli("user", "create", "li.jing", "--role", "service_desk", env=env)
    user_token = run_cli("token", "user", "li.jing", env=env).stdout.strip()
    service_token = run_cli("token", "service", "parking", env=env).stdout.strip()

    revoked = [run_cli("token", "revoke", subject, env=env) for subject in ("li.jing", "service:parking")]
    renewed = [run_cli("token", kind, name, env=env).stdout.strip() for kind, name in NEW_TOKENS]

    assert [result.returncode for result in revoked] == [0, 0], [result.stderr for result in revoked]
    assert revoked[0].stdout.startswith("revoked every token of li.jing: refused everywhere within 5 s")
    for token in (user_token, service_token):
        with pytest.raises(Unauthorized, match="revoked"):
            intake.tokens.verify(token)
    assert [intake.tokens.verify(token).subject for token in renewed] == ["li.jing", "service:parking"]


NEW_TOKENS = [("user", "li.jing"), ("service", "parking")]


def test_the_cli_issues_no_token_to_an_inactive_user(db_url, intake):
    env = {"DATABASE_URL": db_url, "AUTH_SECRET": SECRET, "MALL_ID": "demo"}
    run_cli("user", "create", "li.jing", "--role", "service_desk", env=env)
    UserStore(intake.pool).update("demo", "li.jing", {"active": False})

    inactive = run_cli("token", "user", "li.jing", env=env)

    assert inactive.returncode == 1 and inactive.stdout == ""
    assert "user 'li.jing' is inactive" in inactive.stderr


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
