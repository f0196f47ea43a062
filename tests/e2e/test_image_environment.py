"""The image's Python environment, built here with the Dockerfile's own `uv sync` lines.

There is no Docker engine on this machine, so the image itself is never built by the tests. What
can be reproduced is what is inside it: the virtual environment the builder stage makes (no dev
tools, no pgserver, the project installed as a package rather than from the source tree) and the
runtime's layout (/app with .venv, bpmn/ and node_modules/bpmn-js/dist, no services/ source). Its
commands must work there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SECRET
from tests.support.compose import DEPLOY
from tests.support.processes import SERVER_VARIABLES

pytestmark = pytest.mark.e2e

ROOT = DEPLOY.parent


def dockerfile_lines(pattern: str) -> list[str]:
    """The Dockerfile's RUN commands matching `pattern`, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [" ".join(line.split()) for line in re.findall(pattern, text)]


@pytest.fixture(scope="module")
def image_layout(tmp_path_factory) -> Path:
    """/src and /app as the builder and runtime stages leave them, under a temporary folder."""
    base = tmp_path_factory.mktemp("image")
    source, app = base / "src", base / "app"
    source.mkdir()
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "services", source / "services", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(app / ".venv"), "UV_PYTHON_DOWNLOADS": "never"}
    syncs = dockerfile_lines(r"(uv sync [^\n]*)")
    assert len(syncs) == 2, syncs
    for command in syncs:
        result = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "uv"), *command.split()[1:], "--quiet"],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr
    shutil.copytree(ROOT / "bpmn", app / "bpmn")
    assets = re.findall(
        r"COPY --from=console-assets /assets/(\S+) \./(\S+)", (DEPLOY / "Dockerfile").read_text("utf-8")
    )
    assert assets, "the runtime stage copies the console's assets"
    for (
        copied,
        target,
    ) in assets:  # what `npm ci` installed and esbuild bundled, as the console-assets stage does
        shutil.copytree(ROOT / copied, app / target)
    shutil.rmtree(source)  # the runtime stage copies only the environment
    return app


def in_image(app: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    clean.pop("VIRTUAL_ENV", None)
    clean["PATH"] = f"{app / '.venv' / 'bin'}:{clean['PATH']}"
    return subprocess.run(
        ["python", *args],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=300,
        env={**clean, "PYTHONDONTWRITEBYTECODE": "1", "LOG_LEVEL": "WARNING", **env},
    )


def test_the_image_environment_holds_the_services_but_no_dev_tools_nor_the_embedded_database(image_layout):
    where = in_image(image_layout, "-c", "import services, sys; print(services.__file__)")
    missing = in_image(
        image_layout,
        "-c",
        "import importlib.util as u; print([m for m in ('pgserver', "
        "'pytest', 'ruff', 'kubernetes_validate') if u.find_spec(m)])",
    )

    assert where.returncode == 0, where.stderr
    assert "/.venv/lib/" in where.stdout and "site-packages" in where.stdout  # installed, not the source tree
    assert missing.stdout.strip() == "[]"


def test_the_image_commands_work_from_its_installed_package(image_layout, empty_database):
    env = {"DATABASE_URL": empty_database, "AUTH_SECRET": SECRET}

    migrated = in_image(image_layout, "-m", "services", "migrate", **env)
    deployed = in_image(
        image_layout, "-m", "services", "deploy", "bpmn/complaint.bpmn", "bpmn/triage.dmn", **env
    )
    seeded = in_image(image_layout, "-m", "services", "seed", **env)
    waited = in_image(image_layout, "-m", "services", "migrate", "--wait", "5", "identity", "intake", **env)
    form = in_image(
        image_layout,
        "-c",
        "from services.intake.app import create_app; from services.intake."
        "bootstrap import bootstrap; from services.common.settings import load_settings; "
        "app = create_app(bootstrap(load_settings())); print(app.jinja_env.get_template('form.html').name)",
        **env,
    )

    assert migrated.returncode == 0 and "intake:" in migrated.stdout, (
        migrated.stderr
    )  # the SQL files are in it
    assert deployed.returncode == 0 and "deployed as version 1" in deployed.stdout, deployed.stderr
    assert seeded.returncode == 0 and "merchants" in seeded.stdout, seeded.stderr  # the demo mall's data too
    assert waited.returncode == 0, waited.stderr
    assert form.returncode == 0 and form.stdout.strip() == "form.html", form.stderr  # and the web form


CONSOLE_CHECK = """
from services.common.settings import load_settings
from services.console.app import create_app
from services.console.bootstrap import bootstrap
console = bootstrap(load_settings())
console.pool.open(wait=True)
client = create_app(console).test_client()
for path in ("/login", "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js", "/assets/console.css"):
    print(path, client.get(path).status_code)
console.pool.close()
"""


def test_the_console_serves_its_pages_and_bpmn_js_from_the_installed_package(image_layout, empty_database):
    env = {"DATABASE_URL": empty_database, "AUTH_SECRET": SECRET, "SERVICES_URL": "http://gateway:8080"}
    assert in_image(image_layout, "-m", "services", "migrate", "identity", **env).returncode == 0

    served = in_image(image_layout, "-c", CONSOLE_CHECK, **env)

    assert served.returncode == 0, served.stderr
    assert served.stdout.split() == [
        "/login",
        "200",
        "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
        "200",
        "/assets/console.css",
        "200",
    ]
