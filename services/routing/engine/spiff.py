"""Diagrams made with spiff-arena's modeler (the SpiffWorkflow extensions), read like Camunda ones.

spiff-arena keeps what Camunda puts in attributes in `spiffworkflow:` elements: lanes are the groups
that work a task, `spiffworkflow:properties` hold name/value pairs (here `event`, `notify`,
`notify_to`, `formJsonSchemaFilename`, optionally `candidateGroups`), `instructionsForEndUser` is
the text a person sees, `preScript`/`postScript` run before and after a task, and a business rule
task names its decision with `calledDecisionId`. SpiffWorkflow's own spiff parser reads all of
these; this one also puts the properties at the top of a task's extensions (where the rest of the
engine reads Camunda's) and makes its timers follow the service's clock.
"""

from __future__ import annotations

from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.defaults import ManualTask
from SpiffWorkflow.spiff.specs.defaults import UserTask as SpiffUserTask

from services.routing.engine.timers import ClockTimersMixin

SPIFF_NAMESPACE = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM_PROPERTY = "formJsonSchemaFilename"
HUMAN_TASKS = (SpiffUserTask, ManualTask)


class _FlatProperties:
    """`spiffworkflow:properties` read as `camunda:properties` are: at the top of the extensions."""

    def parse_extensions(self, node=None):
        extensions = super().parse_extensions(node)
        return {**extensions.get("properties", {}), **extensions}


def _flavoured(parser_class):
    return type(f"_Mall{parser_class.__name__}", (_FlatProperties, ClockTimersMixin, parser_class), {})


class MallSpiffParser(SpiffBpmnParser):
    """spiff-arena diagrams, with properties read like Camunda's and clock-driven timers."""

    OVERRIDE_PARSER_CLASSES = {  # noqa: RUF012 (the library's own class attribute)
        tag: (_flavoured(parser_class), spec_class)
        for tag, (parser_class, spec_class) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items()
    }


def is_spiff(root) -> bool:
    """Whether a diagram was made for SpiffWorkflow: it declares and uses the spiffworkflow namespace."""
    return SPIFF_NAMESPACE in (root.nsmap or {}).values() and bool(
        root.xpath("//s:*", namespaces={"s": SPIFF_NAMESPACE})
    )
