"""Every refusal a service raises on purpose reads in Chinese for a caller who asks for zh-CN.

The services write their messages in English (what a department's system that names no language
already matches on) and services/common/i18n translates them by the patterns of messages.po. A
message with no entry reached a Chinese screen in English: this test reads every `raise` of the
services' errors (and marshmallow's ValidationError, whose texts become field errors) and every field
message beside it, fills an f-string's holes with what they stand for, and asks the catalogue.

ConfigurationError is left out: it stops a service at start-up, for the operator reading its log,
and names the settings (environment variables) to mend, which are code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from services.common import i18n

SERVICES = Path(__file__).resolve().parents[2] / "services"
ERRORS = {
    "ServiceError",
    "NotFound",
    "Conflict",
    "InvalidInput",
    "TooLarge",
    "Unauthorized",
    "Forbidden",
    "Unavailable",
    "ValidationError",
}
LEFT_OUT = {"ConfigurationError"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# What an f-string's hole stands for, by its expression's text, where a plain sample would not read
# as the real message does (a task's state has an entry of its own for each state it can be in).
SAMPLES: dict[str, tuple[str, ...]] = {
    "task.state": ("completed", "cancelled"),
    "problem": ("nested more than 32 levels deep (objects and arrays)",),
    "why": (  # what is too large
        "longer than 20000 characters",
        "more than 1000 members",
        "more than 1000 items",
        "a member name longer than 20000 characters",
    ),
    "f' at {where}' if where else ''": (" at customer.name", ""),
    "found.state": ("pending", "sending", "sent", "failed", "suppressed", "cancelled"),
    "exc": (  # a period's refusal, where a report names its week or month
        "expected an ISO week such as 2026-W48",
        "2026-W60 is not a week of that year",
        "expected a month such as 2026-11",
        "2026-13 is not a month",
        "9999-12 is not a day between 1970-01-01 and 2999-12-31",
    ),
    "OUTSIDE": ("a day between 1970-01-01 and 2999-12-31",),
    "str(exc)": ("expected a month such as 2026-11", "2026-13 is not a month"),
    "refused": (  # assignment_refused's answers
        "not an active staff member of this mall",
        "does not hold the floor_supervisor queue",
        "does not work the floor_supervisor queue for 3F",
    ),
    "_words(outcome)": (
        "it waits at handle_floor, which version 3 does not have",
        "it holds merchant_call, which version 3 does not have",
        "it waits at handle_floor; it holds merchant_call, which version 3 does not have",
    ),
}
PLAIN = "x-1"


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _texts(node: ast.expr) -> list[str]:
    """The messages a literal or an f-string can be, its holes filled from SAMPLES."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if ast.unparse(node) in SAMPLES:  # a message made elsewhere, passed on by name
        return list(SAMPLES[ast.unparse(node)])
    if not isinstance(node, ast.JoinedStr):
        return []
    choices = [
        (part.value,) if isinstance(part, ast.Constant) else SAMPLES.get(ast.unparse(part.value), (PLAIN,))
        for part in node.values
    ]
    longest = max(len(choice) for choice in choices)
    return ["".join(choice[index % len(choice)] for choice in choices) for index in range(longest)]


def _field_messages(node: ast.expr) -> list[ast.expr]:
    if not isinstance(node, ast.Dict):
        return []
    found = []
    for value in node.values:
        if isinstance(value, ast.List | ast.Tuple):
            found += value.elts
    return found


def _error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """The shared errors and every class of the services derived from one (LoginRefused …)."""
    names = set(ERRORS)
    for tree in trees.values():
        for node in ast.walk(tree):
            derived = isinstance(node, ast.ClassDef) and any(_name(base) in names for base in node.bases)
            if derived and node.name not in LEFT_OUT:
                names.add(node.name)
    return names


def refusals() -> list[tuple[str, int, str]]:
    """(file, line, message) of every refusal the services raise with words of their own."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(SERVICES.rglob("*.py"))}
    classes = _error_classes(trees)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) in classes):
                continue
            parts = list(node.args[:1])
            parts += _field_messages(node.args[1]) if len(node.args) > 1 else []
            parts += [
                item for kw in node.keywords if kw.arg == "fields" for item in _field_messages(kw.value)
            ]
            for part in parts:
                found += [
                    (str(path.relative_to(SERVICES.parent)), node.lineno, text) for text in _texts(part)
                ]
    return found


def test_the_scan_finds_the_refusals_it_is_meant_to():
    found = {text for _, _, text in refusals()}
    assert "the task is completed" in found and "the task is cancelled" in found
    assert "token expired" in found  # a subclass's raise through its base's name
    assert f"no reply template {PLAIN}" in found  # an f-string, its hole filled
    assert len(found) > 80


def test_every_refusal_reads_in_chinese():
    untranslated = [
        f"{file}:{line}: {text}"
        for file, line, text in refusals()
        if not CHINESE.search(i18n.message(text, "zh-CN"))
    ]
    assert not untranslated, "no entry in messages.po:\n" + "\n".join(untranslated)


def test_a_translated_refusal_keeps_what_its_holes_named():
    assert i18n.message("no reply template 42", "zh-CN") == "没有答复模板 42"
    assert "3F" in i18n.message("unknown floor '3F'", "zh-CN")
    refused = i18n.message("the task cannot go to wang: does not hold the floor_supervisor queue", "zh-CN")
    assert refused == "任务不能交给 wang：不负责楼层主管队列"
    roles = i18n.message("choose from floor_supervisor, service_desk", "zh-CN")
    assert "floor_supervisor" not in roles and "楼层主管" in roles
    # the codes a field takes, by their terms: no English word on a Chinese screen
    requests = i18n.message("unknown 'cash': one of refund, exchange, apology", "zh-CN")
    assert requests == "没有 cash，可选：退货退款、换货、道歉"
    channels = i18n.message("Must be one of: phone, suggestion_box.", "zh-CN")
    assert channels == "应为以下之一：电话、意见箱。"


SLIPS = (
    'x = "abc',
    "x = (1 + 2",
    "x = 1)",
    "if x == 1\n    y = 2",
    "x = max(1，2)",
    "x = “a”",
    "if x = 1:\n    y = 2",
    "x = 1 2",
    "x = [1, 2)",
    "  x = 1",
    "if x:\ny = 1",
    "x = 3abc",
    "import os\nx = hash(1)\ny = os.__dict__",
    "def f():\n    return 1",
    'z = "2026-01-01T00:00:00+08:00"',
)


def test_a_scripts_slips_and_refused_constructs_read_in_chinese_with_advice_that_fits():
    """A designer's typing slip in a script is told in Chinese with what to check (quotes,
    brackets, Chinese punctuation), not Python's English and the advice about imports."""
    from services.routing.engine.problems import Problem, render
    from services.routing.engine.scripts import SYNTAX_ERROR, problems_in

    english_left = []
    for script in SLIPS:
        reasons = problems_in(script, "exec")
        code = "python_syntax" if reasons[0].startswith(SYNTAX_ERROR) else "python_refused"
        refusal = render(
            Problem(code, "score", "打分", None, {"what": "script", "detail": "; ".join(reasons)}), "zh-CN"
        )
        detail = refusal.split("：", 2)[-1].rsplit("；", 1)[0]
        # what is left once code a designer wrote (quoted, called, indexed, a name) is set aside
        code_written = r"“[^”]*”|[\w.]+\([^)]*\)\]?|\w+\[[^\]]*\]|\.?\w*_\w*|\b(?:import|global|if|os|hash)\b"
        words = re.sub(code_written, "", detail)
        if re.search(r"[A-Za-z]{3,}", words.replace("Python", "")):
            english_left.append((script, refusal))
        if code == "python_syntax":
            assert "中文标点" in refusal or "引号" in refusal, refusal
            assert "import" not in refusal.rsplit("；", 1)[-1]
    assert not english_left, english_left
