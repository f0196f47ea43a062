"""deploy/compose.yaml read the way `docker compose` reads it: .env values, interpolation, services.

The deployment tests check the file with this, and the process tests start each service with the
command and environment it gives, so what the compose file runs is what the tests run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"

# What an operator writes into deploy/.env before the first start (the example leaves them empty).
TEST_SECRETS = {
    "AUTH_SECRET": "s" * 48,
    "POSTGRES_PASSWORD": "pg-password",
    "RABBITMQ_PASSWORD": "mq-password",
    "OBJECT_STORE_SECRET_KEY": "minio-password",
}

_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class MissingVariable(Exception):
    """A `${NAME:?message}` whose variable is unset or empty."""


def read_env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """KEY=VALUE lines as compose's .env reader takes them (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, separator, value = stripped.partition("=")
        assert separator, f"{path.name}: not KEY=VALUE: {line!r}"
        values[key.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation: ${A}, $A, ${A:-default}, ${A-default}, ${A:?error}, ${A:+alt},
    nested (${A:-${B}}), and $$ for a literal dollar sign. Values are not interpolated again."""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char != "$":
            out.append(char)
            index += 1
        elif text.startswith("$$", index):
            out.append("$")
            index += 2
        elif text.startswith("${", index):
            end = _closing_brace(text, index + 2)
            out.append(_braced(text[index + 2 : end], env))
            index = end + 1
        elif match := _NAME.match(text, index + 1):
            out.append(env.get(match.group(), ""))
            index = match.end()
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for position in range(start, len(text)):
        if text.startswith("${", position):
            depth += 1
        elif text[position] == "}":
            depth -= 1
            if depth == 0:
                return position
    raise AssertionError(f"unclosed ${{ in {text!r}")


def _braced(expression: str, env: dict[str, str]) -> str:
    name = _NAME.match(expression)
    assert name, f"not a compose variable: ${{{expression}}}"
    rest = expression[name.end() :]
    value = env.get(name.group())
    if not rest:
        return value or ""
    op = next((op for op in _OPERATORS if rest.startswith(op)), None)
    assert op, f"not a compose variable: ${{{expression}}}"
    missing = not value if op.startswith(":") else value is None
    argument = rest[len(op) :]
    if op.endswith("-"):
        return interpolate(argument, env) if missing else value
    if op.endswith("?"):
        if missing:
            raise MissingVariable(f"{name.group()}: {interpolate(argument, env)}")
        return value
    return "" if missing else interpolate(argument, env)


def _walk(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_walk(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    return node


def raw_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def resolved_compose(env: dict[str, str]) -> dict:
    """The compose file after interpolation with `env` (what `docker compose config` prints)."""
    return _walk(raw_compose(), env)


@dataclass(frozen=True)
class ComposeService:
    name: str
    command: list[str]
    environment: dict[str, str]  # env_file first, then `environment:`, as compose merges them
    runs_app_image: bool
    is_tool: bool  # in a profile (`cli`): run by hand with `docker compose run`, never by `up`
    is_job: bool  # runs to completion (migrate, deploy-diagram); the others run until stopped
    depends_on: tuple[str, ...] = ()  # the services compose starts (or completes) before this one

    @property
    def serves_http(self) -> bool:
        """An HTTP API (or the console), behind the gateway; the others are workers."""
        return self.command[:1] == ["serve"]


def services(env_values: dict[str, str]) -> dict[str, ComposeService]:
    """Each service's command and environment, with `env_values` standing for deploy/.env."""
    resolved = resolved_compose(env_values)
    found = {}
    for name, service in resolved["services"].items():
        environment: dict[str, str] = {}
        if service.get("env_file"):
            environment.update(env_values)  # compose.yaml's env_file is .env, here .env.example
        environment.update({key: str(value) for key, value in (service.get("environment") or {}).items()})
        found[name] = ComposeService(
            name=name,
            command=[str(part) for part in service.get("command") or []],
            environment=environment,
            runs_app_image=service.get("build", {}).get("target") == "runtime",
            is_tool=bool(service.get("profiles")),
            is_job=service.get("restart") == "no",
            depends_on=tuple(service.get("depends_on") or ()),
        )
    return found


def long_running(found: dict[str, ComposeService]) -> list[str]:
    """The services `docker compose up` keeps running that run the application image."""
    return [
        name
        for name, service in found.items()
        if service.runs_app_image and not (service.is_job or service.is_tool)
    ]


def long_running_services(env_values: dict[str, str]) -> list[ComposeService]:
    """What `docker compose up` keeps running from the application image, in the compose file's
    order, each with its command and environment (`env_values` standing for deploy/.env): the list
    a test starts to run the whole system as compose does."""
    found = services(env_values)
    return [found[name] for name in long_running(found)]
