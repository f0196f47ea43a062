"""The commands a container platform runs around the services, against the real PostgreSQL."""

from __future__ import annotations

import re

from tests.conftest import SECRET
from tests.support.processes import run


def test_waiting_for_migrations_holds_until_the_migrations_job_has_applied_them(empty_database):
    env = {"DATABASE_URL": empty_database}

    before = run(["migrate", "--wait", "1", "identity", "routing"], env)
    applied = run(["migrate"], env)
    after = run(["migrate", "--wait", "1", "identity", "routing"], env)

    assert before.returncode == 1
    assert re.search(r"identity \(\d+ pending\), routing \(\d+ pending\)", before.stderr), before.stderr
    assert applied.returncode == 0
    assert after.returncode == 0 and "migrations applied: identity, routing" in after.stdout


def test_waiting_for_migrations_on_a_database_that_does_not_answer_waits_and_says_so():
    result = run(["migrate", "--wait", "1"], {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"})

    assert result.returncode == 1
    assert "the database does not answer" in result.stderr


def test_a_service_will_not_start_without_the_secret_that_signs_tokens(db_url):
    result = run(["serve", "intake"], {"DATABASE_URL": db_url, "MIGRATE_ON_START": "false"})

    assert result.returncode == 2
    assert "AUTH_SECRET is required to run a service" in result.stderr


def test_a_multiprocess_metrics_directory_that_does_not_exist_is_a_configuration_error(db_url, tmp_path):
    env = {"DATABASE_URL": db_url, "AUTH_SECRET": SECRET, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "none")}

    result = run(["relay", "intake"], env)

    assert result.returncode == 2
    assert "PROMETHEUS_MULTIPROC_DIR must name an existing directory" in result.stderr
