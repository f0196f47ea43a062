"""The whole system in this process, as tests/integration/console/conftest.py builds it."""

from tests.integration.console.conftest import browser, mall, system  # noqa: F401  (fixtures)
