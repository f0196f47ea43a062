"""Timer events that ask the host's clock for "now", so tests move time instead of sleeping.

SpiffWorkflow's own timer definitions call `datetime.now()` directly; these subclasses read the
clock carried by the workflow's script engine (`scripts.ClockScriptEngine`) instead. The script
engine is not serialized, so the engine re-attaches it after every load.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)


def literal_gateway_timer(task_spec, text: str) -> None:
    """An event-based gateway keeps its own copies of its events' definitions: an ISO 8601 timer
    among them is quoted as on its event (once: a quoted text is no longer ISO text)."""
    for event in getattr(getattr(task_spec, "event_definition", None), "event_definitions", []):
        if (
            isinstance(event, TimerEventDefinition)
            and event.expression == text
            and timer_kind(text) in ISO_KINDS
        ):
            event.expression = repr(text.strip())


def _now(task) -> datetime:
    clock = getattr(task.workflow.script_engine, "clock", None)
    return clock.now() if clock is not None else datetime.now(UTC)


class ClockDurationTimer(DurationTimerEventDefinition):
    """A duration timer (e.g. `"PT" + str(policy["handler_acts_within_seconds"]) + "S"`)."""

    def has_fired(self, my_task):
        now = _now(my_task)
        due = my_task._get_internal_data("event_value")
        if due is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            duration = self.parse_iso_duration(expression)
            due = (now + self.get_timedelta_from_start(duration, now)).isoformat()
            my_task._set_internal_data(event_value=due)
        if self.get_datetime(due) <= now:
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockTimeDateTimer(TimeDateEventDefinition):
    """A timer at a date and time computed from the workflow's data."""

    def has_fired(self, my_task):
        now = _now(my_task)
        due = my_task._get_internal_data("event_value")
        if due is None:
            due = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=due)
        if self.parse_time_or_duration(due) <= now:
            my_task._set_internal_data(event_fired=True)
        return my_task._get_internal_data("event_fired", False)


class ClockCycleTimer(CycleTimerEventDefinition):
    """A cycle (`R3/PT1H`: three times, an hour apart; `R/PT1H` for ever) on the host's clock: each
    time it falls due it runs its outgoing path once more (a reminder every hour), and it stays
    waiting until its cycles are spent. Its internal value is the library's: cycles left, next due
    time, the period in seconds."""

    def cycle_complete(self, my_task):
        now = _now(my_task)
        value = my_task._get_internal_data("event_value")
        if value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            value = _cycle(expression, now)
        ready = False
        if value["cycles"] != 0 and datetime.fromisoformat(value["next"]) <= now:
            value = {
                **value,
                "next": (
                    datetime.fromisoformat(value["next"]) + timedelta(seconds=value["duration"])
                ).isoformat(),
                "cycles": value["cycles"] - 1,
            }
            ready = True
        elif value["cycles"] == 0:
            my_task._set_internal_data(event_fired=True)
        my_task._set_internal_data(event_value=value)
        return ready


def _cycle(expression: str, now: datetime) -> dict:
    """The library's reading of an ISO 8601 repeat, with a bare period counted from `now`."""
    parts = expression.upper().strip("R").split("/")
    if len(parts) == 2 and parts[1].startswith("P"):  # R3/PT1H: the first after one period from now
        duration = TimerEventDefinition.get_timedelta_from_start(
            TimerEventDefinition.parse_iso_duration(parts[1]), now
        )
        cycles = int(parts[0]) if parts[0] else -1
        return {"cycles": cycles, "next": (now + duration).isoformat(), "duration": duration.total_seconds()}
    cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
    return {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}


CLOCK_TIMERS = {
    DurationTimerEventDefinition: ClockDurationTimer,
    TimeDateEventDefinition: ClockTimeDateTimer,
    CycleTimerEventDefinition: ClockCycleTimer,
}


class ClockTimersMixin:
    """For an event parser: its duration and date timers follow the service's clock."""

    def parse_timer_event(self, event):
        definition = super().parse_timer_event(event)
        clock_class = CLOCK_TIMERS.get(type(definition))
        if clock_class is None:
            return definition
        return clock_class(definition.name, definition.expression, description=definition.description)


def due_time(task) -> datetime | None:
    """When a waiting timer task falls due, once the engine has computed it."""
    definition = getattr(task.task_spec, "event_definition", None)
    # An event-based gateway waits for its events' timers itself (the engine keeps one timer's value).
    timers = [
        each
        for each in getattr(definition, "event_definitions", [])
        if isinstance(each, TimerEventDefinition)
    ]
    definition = timers[0] if timers else definition
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(value, dict):  # a cycle: its next time, while cycles are left
        return TimerEventDefinition.get_datetime(value["next"]) if value.get("cycles") != 0 else None
    if isinstance(definition, TimeDateEventDefinition):
        return definition.parse_time_or_duration(value)
    return TimerEventDefinition.get_datetime(value)


# What a timer written by hand in a modeler may be: ISO 8601 text (a duration PT24H, a date and
# time, a cycle R3/PT1H), which Camunda Modeler writes bare; cron (Camunda's `0 0 9 * * ?`) or
# JUEL/FEEL (`${dueDate}`), which this engine does not run; or else Python, checked as Python.
_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_CRON = re.compile(r"^(\S+\s+){4,6}\S+$")
# What a designer meant as ISO 8601 text but did not write as such (PT12HH, PT1.5H), or wrote in
# words (12小时): Python would read either as an unknown name or a syntax error.
_MEANT_ISO = re.compile(r"^R?\d*/?PT?\d[0-9A-Za-z.,]*$")
_WORDS = re.compile(r"[^\x00-\x7f]")


def meant_as_iso(text: str) -> bool:
    """A timer written neither as ISO 8601 nor as Python, but plainly meant as a duration or date."""
    value = text.strip()
    if value[:1] in ("'", '"'):
        return False
    return bool(_MEANT_ISO.match(value)) or bool(_WORDS.search(value))


def is_zero_duration(text: str) -> bool:
    """PT0S, P0D …: a timer due the moment its task starts (an escalation before anyone can act)."""
    return timer_kind(text) == "duration" and not re.search(r"[1-9]", text)


ISO_KINDS = ("duration", "date", "cycle")


def timer_kind(text: str) -> str | None:
    """`duration`, `date` or `cycle` for ISO 8601 text (ISO_KINDS), the name of an unsupported
    notation, or None for a Python expression."""
    value = text.strip()
    if _ISO_DURATION.match(value):
        return "duration"
    if _ISO_DATE.match(value):
        return "date"
    if re.match(r"^R\d*/", value) and all(
        _ISO_DURATION.match(part) or _ISO_DATE.match(part) for part in value[1:].split("/", 1)[1].split("/")
    ):
        return "cycle"
    if "${" in value or "#{" in value or value.startswith(("date and time(", "duration(")):
        return "a JUEL/FEEL expression"
    if _CRON.match(value) and all(re.fullmatch(r"[\d*?/,LW#A-Z-]+", part) for part in value.split()):
        return "a cron expression"
    return None


def written_kind(task_spec) -> str | None:
    """Which kind of timer the modeler wrote (its timeDuration, timeDate or timeCycle); None when
    the element is no timer."""
    definition = getattr(task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    return "date" if isinstance(definition, TimeDateEventDefinition) else "duration"


def literal_timer(task_spec, text: str) -> None:
    """Take a timer written as ISO 8601 text as that text: the engine evaluates a timer's expression
    as Python, so the text is quoted once here, where the diagram is parsed."""
    task_spec.event_definition.expression = repr(text.strip())
