"""A diagram's scripts and expressions are compiled once per process and run as their text would."""

from __future__ import annotations

import builtins

import pytest

from services.routing.engine import scripts
from services.routing.engine.scripts import restricted_environment


@pytest.fixture
def compiled(monkeypatch) -> list[tuple]:
    """Each compilation the environment asks for: (text, mode)."""
    asked: list[tuple] = []

    def counting(source, filename, mode):
        asked.append((source, mode))
        return builtins.compile(source, filename, mode)

    scripts._compiled.cache_clear()
    monkeypatch.setattr(scripts, "compile", counting, raising=False)
    yield asked
    scripts._compiled.cache_clear()


def test_the_same_text_is_compiled_once_and_each_run_sees_its_own_data(compiled):
    environment = restricted_environment()
    context = {"amount": 3}

    assert environment.evaluate("amount * 2", {"amount": 21}) == 42
    assert environment.evaluate("amount * 2", {"amount": 5}) == 10
    environment.execute("total = amount + 1", context)
    environment.execute("total = amount + 1", context)

    assert context["total"] == 4
    assert compiled == [("amount * 2", "eval"), ("total = amount + 1", "exec")]


def test_a_text_that_does_not_parse_raises_as_eval_would(compiled):
    with pytest.raises(SyntaxError):
        restricted_environment().evaluate("amount *", {"amount": 1})
