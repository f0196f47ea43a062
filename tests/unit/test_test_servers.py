"""The tests and bench/faults.py find PostgreSQL and RabbitMQ through one set of settings: each case
imports the fault tests and the bench in a fresh interpreter with the settings given, and runs
nothing (rabbitmqctl and the mail server are stood in for)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, subprocess
from tests.support import servers
import tests.e2e.test_faults as faults
import bench.faults as bench

commands = []
subprocess.run = lambda command, **kwargs: commands.append(command)  # no rabbitmqctl runs
bench.MailServer = lambda: type("NoMail", (), {"port": 25, "start": lambda self: self})()  # nor SMTP
servers.add_vhost("v1")
run = bench.Run(type("Args", (), {"real": False})(), None)
print(json.dumps({"faults": [faults.POSTGRES, faults.RABBITMQ],
                  "bench": [list(run.postgres.target), list(run.rabbitmq.target)],
                  "bench_urls": [run.deployment.services["intake"].environment[name] for name in ("DATABASE_URL", "AMQP_URL")],
                  "commands": commands}))
"""


def _probe(**settings: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEST_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**env, **settings},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_fault_tests_and_bench_aim_at_the_servers_the_test_settings_name():
    found = _probe(
        TEST_DATABASE_URL="postgresql://admin:pw@db.example:6543/postgres",
        TEST_AMQP_URL="amqp://mq-user:pw@mq.example:5673",
        TEST_RABBITMQ_NODE="rabbit@mq.example",
    )

    assert found["faults"] == found["bench"] == [["db.example", 6543], ["mq.example", 5673]]
    assert found["commands"] == [
        ["rabbitmqctl", "-q", "-n", "rabbit@mq.example", "add_vhost", "v1"],
        [
            "rabbitmqctl",
            "-q",
            "-n",
            "rabbit@mq.example",
            "set_permissions",
            "-p",
            "v1",
            "mq-user",
            ".*",
            ".*",
            ".*",
        ],
    ]
    database, broker = found["bench_urls"]
    assert database.startswith("postgresql://admin:pw@127.0.0.1:") and "db.example" not in database
    assert broker.startswith("amqp://mq-user:pw@127.0.0.1:") and "mq.example" not in broker


def test_without_settings_they_aim_at_the_local_servers_and_rabbitmqctls_own_node():
    found = _probe()

    assert found["faults"] == [["127.0.0.1", 5432], ["127.0.0.1", 5672]]
    assert found["commands"][0] == ["rabbitmqctl", "-q", "add_vhost", "v1"]
    assert found["commands"][1][-4:] == ["guest", ".*", ".*", ".*"]


def test_the_vhost_pool_makes_and_deletes_its_vhosts_a_batch_per_rabbitmqctl_call(monkeypatch):
    from tests.support import servers

    calls = []

    def rabbitmqctl(*args, timeout=60):
        made = json.loads(Path(args[1]).read_text()) if args[0] == "import_definitions" else None
        calls.append((args[0], made or args[1]))

    monkeypatch.setattr(servers, "rabbitmqctl", rabbitmqctl)
    pool = servers.VhostPool("mall_test_abc", batch=2)

    urls = [pool.take() for _ in range(3)]
    for url in urls[:2]:
        pool.give_back(url)
    pool.give_back(urls[2])
    pool.close()

    assert [url.rsplit("/", 1)[1] for url in urls] == [
        "mall_test_abc_0",
        "mall_test_abc_1",
        "mall_test_abc_2",
    ]
    assert len(set(urls)) == 3
    made = [each for kind, each in calls if kind == "import_definitions"]
    assert [[vhost["name"] for vhost in batch["vhosts"]] for batch in made] == [
        ["mall_test_abc_0", "mall_test_abc_1"],
        ["mall_test_abc_2", "mall_test_abc_3"],
    ]
    assert {
        (each["vhost"], each["configure"], each["read"], each["write"]) for each in made[0]["permissions"]
    } == {
        ("mall_test_abc_0", ".*", ".*", ".*"),
        ("mall_test_abc_1", ".*", ".*", ".*"),
    }
    deleted = [each for kind, each in calls if kind == "eval"]
    assert deleted == [
        'lists:foreach(fun(V) -> rabbit_vhost:delete(V, <<"tests">>) end, [<<"mall_test_abc_0">>, <<"mall_test_abc_1">>]).',
        'lists:foreach(fun(V) -> rabbit_vhost:delete(V, <<"tests">>) end, [<<"mall_test_abc_2">>, <<"mall_test_abc_3">>]).',
    ]


def test_the_vhost_pool_quotes_no_name_into_erlang_but_its_own():
    from tests.support import servers

    with pytest.raises(ValueError):
        servers.VhostPool('x">>, evil')
    with pytest.raises(ValueError):
        servers.delete_vhosts(['a">>]), os:cmd("id"'])
