"""The one command line: ``python -m services`` (or ``mall``) runs, serves, migrates and administers."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from services.common.errors import ConfigurationError, ServiceError
from services.common.logging import configure_logging
from services.common.settings import Settings, load_settings
from services.runner.registry import SERVICES, all_schemas, spec


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mall", description="Mall complaint handling.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="every service in one process (the default)")
    serve = commands.add_parser("serve", help="one service's HTTP API, with its background workers")
    serve.add_argument("service", choices=sorted(SERVICES))
    serve.add_argument("--no-workers", action="store_true", help="run the workers as their own processes")
    worker = commands.add_parser("worker", help="one service's background workers (relay, consumers, timers)")
    worker.add_argument("service", choices=sorted(SERVICES))
    commands.add_parser("mailbox", help="intake's mailbox worker alone: e-mailed complaints from IMAP_HOST")
    relay = commands.add_parser("relay", help="one service's outbox relay alone")
    relay.add_argument("service", choices=sorted(SERVICES))
    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.add_argument("schemas", nargs="*", help="schemas to migrate (default: all)")
    migrate.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="apply nothing: wait until the migrations job has applied them (a container's init step)",
    )
    probe = commands.add_parser("probe", help="container health check: does this process answer?")
    probe.add_argument("--ready", action="store_true", help="ask /readyz instead of /healthz")
    seed = commands.add_parser("seed", help="load floors, departments and merchants from a file")
    seed.add_argument("--file", help="a JSON file shaped like services/intake/seed/demo_mall.json")
    deploy = commands.add_parser("deploy", help="deploy a BPMN diagram and the DMN files it uses")
    deploy.add_argument("bpmn", help="the .bpmn file")
    deploy.add_argument("dmn", nargs="*", help=".dmn files the diagram references, and .json form files")
    deploy.add_argument("--note", help="what changed, for the version list")
    deploy.add_argument("--by", default="cli", help="who deploys (recorded with the version)")
    retention = commands.add_parser("retention", help="erase personal data of cases closed past retention")
    retention.add_argument("--dry-run", action="store_true", help="list what would be erased, erase nothing")
    commands.add_parser("rebuild", help="rebuild reporting's read model from the events it kept")
    _audit_commands(commands)
    _user_commands(commands)
    return parser


def _audit_commands(commands) -> None:
    audit = commands.add_parser(
        "audit", help="compare the books of every service; exit 0 clean, 1 findings, 2 a server is away"
    )
    audit.add_argument(
        "--settle-seconds",
        type=float,
        default=60,
        help="leave out complaints younger than this, still on their way (default 60)",
    )
    audit.add_argument(
        "--outbox-seconds",
        type=float,
        default=60,
        help="report outbox rows unpublished for longer than this (default 60)",
    )
    audit.add_argument("--json", action="store_true", help="one JSON document instead of the summary")
    dead = commands.add_parser("dead-letter", help="replay or discard messages of the dead-letter queues")
    dead.add_argument("action", choices=["replay", "discard"])
    dead.add_argument(
        "queue",
        help="the dead-letter queue, as the audit names it (e.g. routing.complaints.dead); all: every one",
    )
    dead.add_argument(
        "message_id",
        help="the message's id, as the audit lists it (or the id its body carries); all: every message",
    )
    dead.add_argument("--reason", help="why it is discarded (required for discard; logged with the message)")


def _user_commands(commands) -> None:
    user = commands.add_parser("user", help="staff users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a staff user")
    create.add_argument("username")
    create.add_argument("--role", action="append", required=True, dest="roles")
    create.add_argument("--floor", action="append", default=[], dest="floors")
    create.add_argument("--department", action="append", default=[], dest="departments")
    create.add_argument("--name", dest="display_name")
    create.add_argument("--password-stdin", action="store_true", help="read a password from standard input")
    user.add_parser("list", help="list staff users")
    token = commands.add_parser("token", help="issue or revoke bearer tokens").add_subparsers(
        dest="action", required=True
    )
    for_user = token.add_parser("user", help="a token for an active staff user")
    for_user.add_argument("username")
    for_user.add_argument("--hours", type=float, default=12)
    for_service = token.add_parser("service", help="a token another service calls with")
    for_service.add_argument("name")
    for_service.add_argument("--hours", type=float, default=24 * 30)
    revoke = token.add_parser("revoke", help="every token of a staff user or a service stops working")
    revoke.add_argument("subject", help="a username, or service:<name> for a service's tokens")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        # On a developer's terminal (`run`) plain lines read better, unless LOG_JSON says otherwise.
        json_logs = (
            settings.log_json
            if (args.command != "run" and args.command) or "LOG_JSON" in os.environ
            else False
        )
        configure_logging(settings.log_level, json_logs, service=getattr(args, "service", "mall"))
        return _dispatch(args, settings)
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _dispatch(args, settings: Settings) -> int:
    command = args.command or "run"
    if command == "run":
        from services.runner.allinone import run_all

        run_all(settings)
        return 0
    if command == "probe":
        from services.runner.containers import probe

        return probe(settings, args.ready)
    if command == "dead-letter":
        return _dead_letter(args, settings)
    _require_database(settings)
    if command == "audit":
        from services.audit.command import audit_command

        return audit_command(
            settings.database_url, settings.amqp_url, args.settle_seconds, args.outbox_seconds, args.json
        )
    if command == "migrate":
        return _migrate(args, settings)
    if command == "mailbox":
        from services.runner.registry import mailbox_spec
        from services.runner.standalone import work

        if not settings.mailbox.host:
            raise ConfigurationError("IMAP_HOST is required for the mailbox worker (docs/operations.md)")
        return work(settings, mailbox_spec(), relay=False)
    if command in {"serve", "worker", "relay"}:
        from services.runner.standalone import serve, work

        service = spec(args.service)
        if command == "serve":
            return serve(settings, service, background=not args.no_workers)
        return work(settings, service, relay=True, workers=command == "worker")
    if command in {"deploy", "retention", "rebuild"}:
        settings = _tokenless(settings)
    if command == "deploy":
        return _deploy(args, settings)
    if command in {"retention", "rebuild"}:
        from services.reporting.cli import rebuild_command, retention_command

        return (
            retention_command(settings, args.dry_run) if command == "retention" else rebuild_command(settings)
        )
    return _admin(args, settings)


def _tokenless(settings: Settings) -> Settings:
    """deploy, retention and rebuild issue and check no token, but build a service's runtime, whose
    token issuer insists on a secret: without AUTH_SECRET a throwaway one stands in (an operator
    should not need the services' secret to erase or rebuild)."""
    if settings.auth_secret:
        return settings
    import dataclasses
    import secrets

    return dataclasses.replace(settings, auth_secret=secrets.token_urlsafe(48))


def _dead_letter(args, settings: Settings) -> int:
    from services.audit.command import dead_letter_command

    if args.action == "discard" and not (args.reason or "").strip():
        raise ConfigurationError("discard needs --reason: what the message was and why it is not replayed")
    return dead_letter_command(settings.amqp_url, args.action, args.queue, args.message_id, args.reason)


def _migrate(args, settings: Settings) -> int:
    from services.common.migrations import apply_migrations

    schemas = args.schemas or all_schemas()
    if args.wait is not None:
        from services.runner.containers import wait_for_migrations

        return wait_for_migrations(settings, schemas, args.wait)
    for schema, count in apply_migrations(settings.database_url, schemas).items():
        print(f"{schema}: {count} migration(s) applied")
    return 0


def _deploy(args, settings: Settings) -> int:
    from pathlib import Path

    from services.routing.bootstrap import bootstrap
    from services.routing.domain.commands import DeployProcess

    bpmn = Path(args.bpmn)
    files = {Path(name).name: Path(name).read_text(encoding="utf-8") for name in args.dmn}
    forms = {name: text for name, text in files.items() if name.endswith(".json")}
    dmn = {name: text for name, text in files.items() if name not in forms}
    routing = bootstrap(settings)
    with routing.pool:
        command = DeployProcess(bpmn.read_text(encoding="utf-8"), dmn, args.by, args.note, bpmn.name, forms)
        deployment = routing.bus.handle(command)
    version = deployment.version
    if deployment.created:
        state = "deployed as"
    else:
        state = (
            "unchanged: the same files as active"
            if deployment.active
            else "unchanged: the same files as inactive"
        )
    print(f"{version.process_key} {state} version {version.version} ({version.source_hash[:12]})")
    return 0


def _admin(args, settings: Settings) -> int:
    from services.common.db import create_pool

    with create_pool(settings.database_url, 1, 2, name="cli") as pool:
        if args.command == "seed":
            from services.intake.seed import DEMO_MALL, load_reference

            counts = load_reference(pool, settings.mall_id, args.file or DEMO_MALL, announce=True)
            print(", ".join(f"{count} {name}" for name, count in counts.items()))
        elif args.command == "user":
            _user(args, settings, pool)
        elif args.command == "token":
            from services.common.identity.token_command import token_command

            token_command(args, settings, pool)
    return 0


def _user(args, settings: Settings, pool) -> None:
    from services.common.identity.users import UserStore

    users = UserStore(pool)
    if args.action == "list":
        for user in users.list(settings.mall_id):
            scope = ",".join(user.floors + user.departments)
            print(f"{user.username}\t{','.join(user.roles)}\t{scope}\t{user.display_name or ''}")
        return
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
    user = users.create(
        settings.mall_id,
        args.username,
        args.roles,
        args.floors,
        args.departments,
        args.display_name,
        password,
    )
    print(f"created {user.username} ({', '.join(user.roles)})")


def _require_database(settings: Settings) -> None:
    if not settings.database_url:
        raise ConfigurationError("DATABASE_URL is required for this command (only `run` embeds one)")
