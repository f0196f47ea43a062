"""Every service in one process behind one port, for a laptop or a demo.

With no DATABASE_URL an embedded PostgreSQL starts under DATA_DIR; with no AMQP_URL the services
talk through kombu's in-memory transport. The demo mall and demo staff are loaded, and a token
for the service desk is printed so the API can be tried with curl at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from flask import Flask, jsonify, redirect, request
from waitress.server import create_server
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from services.common.bus.connection import MEMORY_URL
from services.common.clock import Clock
from services.common.errors import Conflict
from services.common.identity.tokens import TokenIssuer
from services.common.identity.users import UserStore
from services.common.migrations import apply_migrations
from services.common.settings import Settings
from services.common.web.api import add_collectors, add_liveness, probe_answer
from services.common.web.errors import register_error_handlers
from services.common.web.proxies import server_options
from services.runner.background import Background, exit_on_sigterm
from services.runner.embedded import local_auth_secret, local_demo_password, start_embedded_postgres
from services.runner.registry import SERVICES, all_schemas, spec

log = logging.getLogger(__name__)

MALL_DIAGRAM = Path(__file__).resolve().parents[2] / "bpmn" / "complaint.bpmn"
# Who the one-process run deploys the shipped diagram as (the demo mall's id, not a person).
RUN_DEPLOYER = "demo"

DEMO_STAFF = [
    # username, display name, roles, floors, departments: every floor and department of the demo
    # mall has someone, so that no demo complaint waits in a queue nobody sees
    ("desk", "服务台 李静", ["service_desk"], [], []),
    ("floorb1", "负一楼楼管 马丽", ["floor_supervisor"], ["B1"], []),
    ("floor2", "二楼楼管 张伟", ["floor_supervisor"], ["2F"], []),
    ("floor3", "三楼楼管 王强", ["floor_supervisor"], ["3F"], []),
    ("floor1", "一层及负二层楼管 陈刚", ["floor_supervisor"], ["1F", "B2"], []),
    ("floor4", "四至六层楼管 林芳", ["floor_supervisor"], ["4F", "5F", "6F"], []),
    ("security", "保安部经理 刘洋", ["department_manager"], [], ["security"]),
    ("cleaning", "保洁部经理 胡军", ["department_manager"], [], ["cleaning"]),
    ("engineering", "工程部经理 吴斌", ["department_manager"], [], ["engineering"]),
    ("parking", "停车场管理部经理 郑凯", ["department_manager"], [], ["parking"]),
    ("service", "客服部经理 何静", ["department_manager"], [], ["customer_service"]),
    ("operations", "营运部主管 钱伟", ["department_manager"], [], ["operations"]),
    ("marketing", "企划部经理 冯雪", ["department_manager"], [], ["marketing"]),
    ("finance", "财务部经理 蒋涛", ["department_manager"], [], ["finance"]),
    ("administration", "行政部经理 韩梅", ["department_manager"], [], ["administration"]),
    ("ops", "营运部经理 陈敏", ["operations_manager"], [], []),
    ("deputy", "店副总 赵磊", ["deputy_store_manager"], [], []),
    ("store", "店总 孙芳", ["store_manager"], [], []),
    ("designer", "流程设计 周婷", ["process_designer"], [], []),
    ("admin", "系统管理员", ["admin"], [], []),
]


def prepare_settings(settings: Settings) -> tuple[Settings, object | None]:
    """Fill in the embedded database, the in-memory broker and a local secret where unset."""
    data_dir = Path(settings.data_dir).resolve()
    server = None
    changes: dict = {}
    if not settings.database_url:
        server = start_embedded_postgres(data_dir)
        changes["database_url"] = server.get_uri()
    if not settings.amqp_url:
        changes["amqp_url"] = MEMORY_URL
    if not settings.auth_secret:
        changes["auth_secret"] = local_auth_secret(data_dir)
    return replace(settings, **changes), server


def load_demo(settings: Settings, runtime, password: str | None = None) -> str:
    """Seed the demo mall and staff once; save a token per demo person; return the desk's.

    With a `password`, demo staff without one get it, to log in to the console.
    """
    from services.intake.seed import has_reference, load_reference

    if not has_reference(runtime.pool, settings.mall_id):
        counts = load_reference(runtime.pool, settings.mall_id)
        log.info("demo mall loaded", extra=counts)
    users = UserStore(runtime.pool)
    for username, name, roles, floors, departments in DEMO_STAFF:
        with contextlib.suppress(Conflict):
            users.create(settings.mall_id, username, roles, floors, departments, display_name=name)
    if password:
        users.give_password(settings.mall_id, [username for username, *_ in DEMO_STAFF], password)
    issuer = TokenIssuer(settings.auth_secret, ttl=timedelta(days=7))
    folder = Path(settings.data_dir) / "tokens"
    folder.mkdir(parents=True, exist_ok=True)
    for username, *_ in DEMO_STAFF:
        (folder / username).write_text(issuer.issue(users.get(settings.mall_id, username).identity()))
    return (folder / "desk").read_text()


def deploy_mall_diagram(routing, diagram: Path = MALL_DIAGRAM) -> None:
    """Deploy bpmn/complaint.bpmn (and its DMN files) as a new version when it changed, unless a
    process designer deployed a version of their own: from then on theirs is the newest and stays so."""
    from services.routing.domain.commands import ActivateProcess, DeployProcess

    with routing.uow() as uow:
        newest = uow.processes.newest(routing.settings.mall_id, routing.settings.complaint_process)
    if newest is not None and newest.deployed_by != RUN_DEPLOYER:
        return
    bpmn = diagram.read_text(encoding="utf-8")
    dmn = {path.name: path.read_text(encoding="utf-8") for path in diagram.parent.glob("*.dmn")}
    command = DeployProcess(bpmn, dmn, RUN_DEPLOYER, "单进程运行时自动部署的随附流程图", diagram.name)
    deployment = routing.bus.handle(command)  # the same source: no new version
    version = deployment.version
    if not deployment.active:  # bpmn/ went back to the files of an earlier version of the run's
        routing.bus.handle(
            ActivateProcess(
                version.process_key, version.version, RUN_DEPLOYER, "bpmn/ holds this version's files again"
            ),
        )
    if deployment.created:
        log.info(
            "complaint diagram deployed",
            extra={"process_key": version.process_key, "version": version.version},
        )


def _index(mounted: list[str]) -> Flask:
    app = Flask("mall")
    register_error_handlers(app)

    @app.get("/")
    def index():
        """A browser goes to the console; a program gets the list of the services' documents."""
        wanted = request.accept_mimetypes.best_match(["application/json", "text/html"])
        if "console" in mounted and wanted == "text/html":
            return redirect("/console/")
        return jsonify(
            {
                "services": {name: f"/{name}/openapi.json" for name in mounted},
                "form": "/intake/form",
                "console": "/console/" if "console" in mounted else None,
            }
        )

    @app.get("/healthz")
    def healthz():
        """Liveness of the whole run: every worker thread of every service still runs."""
        workers = app.extensions.get("mall.workers", [])
        return probe_answer(
            {name: state for each in workers for name, state in each.liveness().items()}, "ok", "not ok"
        )

    @app.get("/readyz")
    def readyz():
        """Readiness of the whole run: every consumer and relay is connected to the broker."""
        workers = app.extensions.get("mall.workers", [])
        return probe_answer(
            {name: state for each in workers for name, state in each.readiness().items()},
            "ready",
            "not ready",
        )

    @app.get("/favicon.ico")
    def favicon():
        """What a browser asks for on a page that links no icon (the public form, a PDF): the console's."""
        return redirect("/console/assets/favicon.svg", code=301)

    return app


def _app(service, runtime) -> Flask:
    app = service.create_app(runtime)
    add_collectors(app, service.collectors(runtime))  # /<name>/metrics reports the service's gauges
    return app


def build(settings: Settings, clock: Clock | None = None) -> tuple[dict, DispatcherMiddleware]:
    """Every service's runtime (pools open) and one WSGI app mounting each at /<name>.

    Unless SERVICES_URL says otherwise, the console calls this very app for the services' APIs.
    """
    runtimes = {name: spec(name).build(settings, None, clock) for name in SERVICES}
    for runtime in runtimes.values():
        runtime.pool.open(wait=True, timeout=30)
    apps = {f"/{name}": _app(spec(name), runtime) for name, runtime in runtimes.items()}
    wsgi = DispatcherMiddleware(_index(list(runtimes)), apps)
    if "console" in runtimes and not settings.services_url:
        runtimes["console"].services.use_wsgi(wsgi)
    return runtimes, wsgi


def watch_workers(wsgi: DispatcherMiddleware, names: list[str], background: list[Background]) -> None:
    """Each service's /healthz says whether its worker threads still run, and the root's /healthz
    and /readyz speak for all of them: a relay stopped by an error is seen, not only logged."""
    for name, workers in zip(names, background, strict=True):
        add_liveness(wsgi.mounts[f"/{name}"], workers.liveness)
    wsgi.app.extensions["mall.workers"] = background


def announce_places(
    settings: Settings, runtimes: dict, background: list[Background], wait: float = 60
) -> None:
    """Intake announces the mall's floors and departments by name once every consumer is listening:
    the in-memory broker (and a new one) drops an event no queue is bound for yet, and reporting prints
    floors and departments by the names it last heard."""
    from services.intake.seed import announce_reference

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if all(state == "ok" for workers in background for state in workers.readiness().values()):
            break
        time.sleep(0.2)
    announce_reference(runtimes["intake"].pool, settings.mall_id)


def run_all(settings: Settings) -> None:
    settings, server = prepare_settings(settings)
    apply_migrations(settings.database_url, all_schemas())
    runtimes, wsgi = build(settings)
    password = local_demo_password(Path(settings.data_dir).resolve())
    token = load_demo(settings, runtimes["intake"], password)
    deploy_mall_diagram(runtimes["routing"])
    background = [Background.of(spec(name), runtime).start() for name, runtime in runtimes.items()]
    watch_workers(wsgi, list(runtimes), background)
    threading.Thread(target=announce_places, args=(settings, runtimes, background), daemon=True).start()
    http = create_server(
        wsgi,
        host=settings.http_host,
        port=settings.http_port,
        threads=8,
        **server_options(settings.trusted_proxies),
    )
    _announce(settings, token, password, embedded=server is not None)
    exit_on_sigterm()
    try:
        http.run()  # until SIGTERM or Ctrl+C
    finally:
        for workers in background:
            workers.stop()
        for runtime in runtimes.values():
            runtime.pool.close()
        if server is not None:
            server.cleanup()


def _where_messages_go(settings: Settings) -> str:
    mail = "SMTP_URL" if settings.smtp_url else f"e-mail kept in {settings.data_dir}/outbox/mail"
    sms = "NOTIFY_SMS_URL" if settings.notify.sms_url else f"SMS in {settings.data_dir}/outbox/sms"
    return f"{mail}; {sms}"


def _mailbox(settings: Settings, url: str) -> str:
    """Where e-mailed complaints come from: the mall's mailbox when IMAP_HOST names one."""
    if not settings.mailbox.host:
        return "none (set IMAP_HOST, IMAP_USER, IMAP_SECRET to read the complaint mailbox)"
    return f"{settings.mailbox.name} over IMAP ({settings.mailbox.tls}); drafts at {url}/console/emails"


def _announce(settings: Settings, token: str, password: str, embedded: bool) -> None:
    from services.common.pdffonts import MISSING, font_file

    token_file = Path(settings.data_dir) / "desk-token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(token)
    url = f"http://{settings.http_host}:{settings.http_port}"
    database = f"embedded PostgreSQL in {settings.data_dir}/pg" if embedded else "DATABASE_URL"
    print(
        f"\nMall complaints is running at {url}/\n"
        f"  intake API     {url}/intake/complaints   (OpenAPI: {url}/intake/openapi.json)\n"
        f"  web form       {url}/intake/form\n"
        f"  routing API    {url}/routing/tasks       (OpenAPI: {url}/routing/openapi.json)\n"
        f"  staff console  {url}/console/   log in as a demo person below, password {password}\n"
        f"                 (kept in {settings.data_dir}/demo-password)\n"
        f"  notify API     {url}/notify/inbox        (OpenAPI: {url}/notify/openapi.json)\n"
        f"  messages       {_where_messages_go(settings)}\n"
        f"  reporting API  {url}/reporting/reports/weekly?format=html   (OpenAPI: {url}/reporting/openapi.json)\n"
        f"  PDF font       {font_file() or 'MISSING: ' + MISSING}\n"
        f"  desk token     saved in {token_file} (export TOKEN=$(cat {token_file}))\n"
        f"  staff tokens   {settings.data_dir}/tokens/<name>: {', '.join(name for name, *_ in DEMO_STAFF)}\n"
        f"  database       {database}\n"
        f"  broker         {'in-memory' if settings.amqp_url == MEMORY_URL else 'AMQP_URL'}\n"
        f"  mailbox        {_mailbox(settings, url)}\n"
        f"  attachments    {'OBJECT_STORE_URL' if settings.object_store_url else f'files in {settings.data_dir}/objects'}\n"
        "Press Ctrl+C to stop.\n",
        flush=True,
    )
