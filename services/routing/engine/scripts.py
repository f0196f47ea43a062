"""What a diagram's Python may do: checked when it is deployed, confined when it runs.

Every script, condition, timer and DMN expression is parsed with `ast` at deploy time and refused
if it imports, names anything private (`_…`), or reaches for eval/open/getattr and friends. At run
time the expressions see only a small set of harmless builtins. Neither alone is a sandbox; the
deploy-time check is what keeps attribute-walking escapes out. Every run has a time budget.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import re
import signal
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from types import CodeType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins import ExclusiveGatewayMixin, InclusiveGatewayMixin, ScriptTaskMixin
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin

SAFE_BUILTIN_NAMES = (
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "range",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "zip",
    "None",
    "True",
    "False",
    "ValueError",
    "KeyError",
    "TypeError",
    "Exception",
)
SAFE_BUILTINS = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}

FORBIDDEN_NAMES = {
    "eval",
    "exec",
    "compile",
    "open",
    "globals",
    "locals",
    "vars",
    "getattr",
    "setattr",
    "delattr",
    "breakpoint",
    "input",
    "help",
    "exit",
    "quit",
    "memoryview",
    "type",
    "object",
    "super",
    "dir",
    "classmethod",
    "staticmethod",
    "property",
    "print",
}
FORBIDDEN_ATTRIBUTES = {"format", "format_map", "mro"}
# Frames, code objects and tracebacks reach other modules' globals, and through them the real
# builtins: `(g.gi_frame.f_back for _ in [1])` walks up to the engine's own frames.
FORBIDDEN_ATTRIBUTE_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")


SCRIPT_SECONDS = 2.0
# In the sandbox, the kernel ends the process once a script has used this much more CPU than its
# budget: the line tracer cannot stop one long call into C (`sum(range(10**12))`), a signal can.
CPU_GRACE_SECONDS = 0.5


class ClockScriptEngine(PythonScriptEngine):
    """The script engine with the host clock attached; `on_script` is told each element before
    its script or expression runs (the sandbox names the element of a script it had to stop)."""

    def __init__(self, clock, environment=None, on_script=None):
        super().__init__(environment=environment)
        self.clock = clock
        self.on_script = on_script

    def evaluate(self, task, expression, external_context=None):
        if self.on_script is not None:
            self.on_script(task)
        return super().evaluate(task, expression, external_context)

    def execute(self, task, script, external_context=None):
        if self.on_script is not None:
            self.on_script(task)
        return super().execute(task, script, external_context)


class ScriptTimeout(Exception):
    """A diagram's script or expression ran past its time budget."""


class _TimeLimitedEnvironment(TaskDataEnvironment):
    """Every script and expression runs under a time budget, so a loop that never ends stops with
    an error (and an incident on its case) instead of holding a worker for ever."""

    def __init__(self, environment_globals, seconds: float, cpu_limit: bool):
        super().__init__(environment_globals)
        self.seconds = seconds
        self.cpu_limit = cpu_limit

    def evaluate(self, expression, context, external_context=None):
        with _time_limit(self.seconds, self.cpu_limit):  # compiling a text too: it can be long
            return super().evaluate(_compiled(expression, "eval"), context, external_context)

    def execute(self, script, context, external_context=None):
        with _time_limit(self.seconds, self.cpu_limit):
            return super().execute(_compiled(script, "exec"), context, external_context)


@functools.lru_cache(maxsize=4096)
def _compiled(source: str, mode: str) -> CodeType:
    """A script or expression compiled once per process, as `eval` and `exec` would compile its text
    (a syntax error raises here as it would there). A step hands the engine the same texts again
    and again: compiling them each time was a tenth of the engine's work on the shipped diagram."""
    return compile(source, "<string>", mode)


@contextlib.contextmanager
def _time_limit(seconds: float, cpu_limit: bool) -> Iterator[None]:
    """Stop the Python run in this thread once `seconds` have passed (a line tracer checks the time;
    signals would only reach the main thread, and steps run in worker threads). With `cpu_limit`
    (only in a sandbox process, which runs nothing else) the process is also killed by SIGPROF,
    whose default action ends it, if the script's CPU time passes the budget and a grace."""
    deadline = time.monotonic() + seconds
    previous = sys.gettrace()

    def check(frame, event, arg):
        if time.monotonic() > deadline:
            raise ScriptTimeout(f"the script ran longer than {seconds} s")
        return check

    armed = cpu_limit and signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
    if armed:
        signal.setitimer(signal.ITIMER_PROF, seconds + CPU_GRACE_SECONDS)
    sys.settrace(check)
    try:
        yield
    finally:
        sys.settrace(previous)
        if armed:
            signal.setitimer(signal.ITIMER_PROF, 0)


def restricted_environment(
    seconds: float = SCRIPT_SECONDS, cpu_limit: bool = False, clock=None
) -> TaskDataEnvironment:
    """Globals for every script and expression: harmless builtins, the time functions below
    (`now` on the host's clock), and a time budget."""
    functions = {"add_seconds": add_seconds, "end_of_day": end_of_day}
    if clock is not None:
        functions["now"] = lambda: clock.now().isoformat()
    return _TimeLimitedEnvironment({"__builtins__": SAFE_BUILTINS, **functions}, seconds, cpu_limit)


MAX_SHIFT_SECONDS = 100 * 366 * 86400


def add_seconds(moment: str, seconds: int | float) -> str:
    """`moment` (ISO 8601 text with its UTC offset) moved by `seconds`, as ISO 8601 text: the one
    piece of date arithmetic a diagram needs, e.g. a deadline some policy seconds after intake."""
    if not isinstance(moment, str) or isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("add_seconds(moment, seconds) takes ISO 8601 text and a number of seconds")
    if abs(seconds) > MAX_SHIFT_SECONDS:
        raise ValueError("add_seconds moves a moment by at most 100 years")
    when = datetime.fromisoformat(moment)
    if when.tzinfo is None:
        raise ValueError(f"{moment!r} has no UTC offset")
    return (when + timedelta(seconds=seconds)).isoformat()


def end_of_day(day: str, time_zone: str) -> str:
    """The last second of `day` (ISO 8601 date text) in `time_zone` (an IANA name, e.g. the mall's
    `policy["time_zone"]`), as ISO 8601 text with its UTC offset: "reply by that date" as a deadline."""
    if not isinstance(day, str) or not isinstance(time_zone, str):
        raise TypeError("end_of_day(day, time_zone) takes ISO 8601 date text and a time zone name")
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{time_zone!r} is not a time zone") from exc
    last = date.fromisoformat(day[:10])
    return datetime(last.year, last.month, last.day, 23, 59, 59, tzinfo=zone).isoformat()


# Dates and deadlines follow the mall's zone (`policy["time_zone"]`): a diagram that writes an offset
# or a zone as text ("T23:59:59+08:00") gives another mall wrong deadlines.
OFFSET_LITERAL = re.compile(r"(\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})|^[+-]\d{2}:\d{2})$")
ZONE_NAMES = frozenset(name for name in available_timezones() if "/" in name) | {"UTC", "GMT"}


def _time_literal(node: ast.AST) -> str | None:
    """Why a constant in diagram Python is refused: an offset or a time zone written as text."""
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return None
    if OFFSET_LITERAL.search(node.value):
        return (
            f'the UTC offset in {node.value!r} is written as text: use end_of_day(day, policy["time_zone"]) '
            "or add_seconds, so deadlines follow the mall's time zone"
        )
    if node.value in ZONE_NAMES:
        return f'the time zone {node.value!r} is written as text: use policy["time_zone"], the mall\'s zone'
    return None


SYNTAX_ERROR = "syntax error"


def problems_in(text: str | None, mode: str) -> list[str]:
    """Why a piece of diagram Python is refused; empty when it is acceptable.

    `mode` is `exec` (scripts), `eval` (expressions) or `dmn` (a DMN input entry, which the engine
    may complete with the input in front, e.g. `< 5000`).
    """
    if text is None or not text.strip():
        return []
    try:
        tree = parse_python(text, mode)
    except SyntaxError as exc:
        return [f"{SYNTAX_ERROR} on line {exc.lineno}: {exc.msg}"]
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            problems.append("imports and global statements are not allowed")
        elif isinstance(node, ast.Attribute) and (
            node.attr.startswith(("_", *FORBIDDEN_ATTRIBUTE_PREFIXES)) or node.attr in FORBIDDEN_ATTRIBUTES
        ):
            problems.append(f"attribute .{node.attr} is not allowed")
        elif isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_NAMES):
            problems.append(f"{node.id} is not allowed")
        elif isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            problems.append("defining functions or classes is not allowed")
        elif literal := _time_literal(node):
            problems.append(literal)
    return sorted(set(problems))


def parse_python(text: str, mode: str) -> ast.AST:
    """A piece of the diagram's Python as `diagram_python` gives it (a DMN entry as the engine completes it)."""
    if mode != "dmn":
        return ast.parse(text, mode=mode)
    entry = text.replace("?", "dmn_input")
    try:
        return ast.parse(entry, mode="eval")
    except SyntaxError:
        return ast.parse("dmn_input " + entry, mode="eval")  # as the DMN engine completes it


def diagram_python(spec, subprocess_specs) -> Iterator[tuple[object, str, str, str]]:
    """(task spec, text, mode, what it is) for every piece of Python the engine will run for this
    diagram; `what` is script, condition, expression, timer or DMN rule, as a designer calls it."""
    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            yield from ((task_spec, text, mode, what) for text, mode, what in _task_python(task_spec))


def _task_python(task_spec) -> Iterator[tuple[str, str, str]]:
    if isinstance(task_spec, ScriptTaskMixin):
        yield task_spec.script, "exec", "script"
    for attribute in ("prescript", "postscript"):
        if getattr(task_spec, attribute, None):
            yield getattr(task_spec, attribute), "exec", "script"
    if isinstance(task_spec, (ExclusiveGatewayMixin, InclusiveGatewayMixin)):
        for condition, _target in task_spec.cond_task_specs:
            if condition is not None:
                yield condition.args[0], "eval", "condition"
    for attribute in ("condition", "cardinality"):
        if isinstance(getattr(task_spec, attribute, None), str):
            yield getattr(task_spec, attribute), "eval", "expression"
    definition = getattr(task_spec, "event_definition", None)
    for event in [definition, *getattr(definition, "event_definitions", [])] if definition else []:
        if isinstance(getattr(event, "expression", None), str):
            yield (
                event.expression,
                "eval",
                "timer" if isinstance(event, TimerEventDefinition) else "expression",
            )
        for prop in getattr(event, "correlation_properties", []):
            yield prop.retrieval_expression, "eval", "expression"
    if isinstance(task_spec, BusinessRuleTaskMixin):
        yield from (
            (text, mode, "DMN rule") for text, mode in _dmn_python(task_spec.dmnEngine.decision_table)
        )


def _dmn_python(table) -> Iterator[tuple[str, str]]:
    for column in table.inputs:
        yield column.expression, "eval"
    for rule in table.rules:
        for entry in rule.inputEntries:
            for text in entry.lhs:
                yield text, "dmn"
        for entry in rule.outputEntries:
            yield getattr(entry, "text", None), "eval"
