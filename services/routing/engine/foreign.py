"""What other modelers draw that routing cannot run, found in the XML before the engine reads it.

Camunda Modeler, Signavio, Bizagi, ARIS, Trisotech, Yaoqiang … write elements the engine either
cannot run here (a service task calling Java, a data store, a JUEL condition, a Groovy script) or
stops on with a message of its own (a `KeyError`, "Non-default exclusive outgoing sequence flow
without condition", an `<Element … at 0x…>`). Each check here names the element, in the designer's
words, before the engine is asked: every problem at once, and no engine exception left to translate.

Only the processes that run are checked: the executable ones and those they call (when none is
executable, every process, as the designer is about to tick one).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from services.routing.engine.problems import Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "camunda": CAMUNDA, "spiff": SPIFF}

# What Camunda calls Java, expressions and workers with: nothing routing provides.
IMPLEMENTATIONS = ("class", "delegateExpression", "expression", "type", "topic")
PYTHON = ("", "python", "text/x-python", "python3")
ACTIVITIES = (
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "subProcess",
    "callActivity",
    "transaction",
    "adHocSubProcess",
)


def foreign_problems(root, file: str, deployed: set[str] = frozenset()) -> list[Problem]:
    """Every element of the processes that run that cannot run here, each named; `deployed` are the
    deployed processes a call activity may call besides those of the file."""
    found: list[Problem] = []
    for process in running_processes(root):
        found += [problem for check in CHECKS for problem in check(process, file)]
        found += _called_processes(process, file, deployed)
    return _once(found)


def calls_outside(bpmn_xml: str) -> set[str]:
    """The processes the file's call activities call that it does not draw itself (none when the
    file is not XML: that is refused when it is parsed)."""
    try:
        root = etree.fromstring(
            bpmn_xml.encode(), parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return set()
    drawn = set(root.xpath("bpmn:process/@id", namespaces=NS))
    return {
        call for call in root.xpath("//bpmn:callActivity/@calledElement", namespaces=NS) if call not in drawn
    }


def running_processes(root) -> list:
    """The executable processes and those they call; every process when none is executable."""
    processes = root.xpath("bpmn:process", namespaces=NS)
    running = [process for process in processes if process.get("isExecutable") == "true"] or processes
    by_id = {process.get("id"): process for process in processes}
    todo = list(running)
    while todo:
        for call in todo.pop().iter(f"{{{BPMN}}}callActivity"):
            called = by_id.get(call.get("calledElement"))
            if called is not None and called not in running:
                running.append(called)
                todo.append(called)
    return running


def _problem(code: str, node, file: str, **params) -> Problem:
    return Problem(code, node.get("id"), file, node.get("name"), params)


def _bpmn(node, *tags: str) -> Iterator:
    for tag in tags:
        yield from node.iter(f"{{{BPMN}}}{tag}")


def _data_stores(process, file: str) -> list[Problem]:
    return [_problem("data_store", node, file) for node in _bpmn(process, "dataStoreReference")]


def _service_tasks(process, file: str) -> list[Problem]:
    """A service task calls something outside (Java, a connector, a worker, spiff-arena's operators):
    routing calls nothing; nor does any task run Camunda's implementations."""
    found = [_problem("service_task", node, file) for node in _bpmn(process, "serviceTask")]
    for node in _bpmn(process, "sendTask", "businessRuleTask", "scriptTask", "task", "userTask"):
        if any(node.get(f"{{{CAMUNDA}}}{name}") for name in IMPLEMENTATIONS) and not _decision(node):
            found.append(_problem("service_task", node, file))
    return found


def _linked_forms(process, file: str) -> list[Problem]:
    """A user task whose form is a separate file (Camunda's `formKey`, `formRef`: a Camunda Form or
    an embedded HTML form): routing never reads it, so staff would see none of its fields and
    nothing would be checked. Form fields drawn on the task (or a spiff-arena JSON schema) are read."""
    return [
        _problem(
            "form_linked",
            node,
            file,
            form=node.get(f"{{{CAMUNDA}}}formRef") or node.get(f"{{{CAMUNDA}}}formKey"),
        )
        for node in _bpmn(process, "userTask")
        if node.get(f"{{{CAMUNDA}}}formRef") or node.get(f"{{{CAMUNDA}}}formKey")
    ]


def _listeners(process, file: str) -> list[Problem]:
    """Camunda's execution and task listeners run Java, expressions or scripts when an element starts
    or ends: routing runs none of them, and ignoring them would change what the designer drew."""
    listeners = (
        "bpmn:extensionElements/camunda:executionListener | bpmn:extensionElements/camunda:taskListener"
    )
    return [
        _problem("listener", node, file)
        for node in process.iter(etree.Element)
        if node.xpath(listeners, namespaces=NS)
    ]


def _decision(node) -> str | None:
    called = node.xpath("bpmn:extensionElements/spiff:calledDecisionId", namespaces=NS)
    return node.get(f"{{{CAMUNDA}}}decisionRef") or (called[0].text if called else None)


def _rule_tasks(process, file: str) -> list[Problem]:
    return [
        _problem("decision_missing", node, file)
        for node in _bpmn(process, "businessRuleTask")
        if not _decision(node) and not any(node.get(f"{{{CAMUNDA}}}{name}") for name in IMPLEMENTATIONS)
    ]


def _scripts(process, file: str) -> list[Problem]:
    found = []
    for node in _bpmn(process, "scriptTask"):
        language = (node.get("scriptFormat") or "").strip().lower()
        if language not in PYTHON:
            found.append(_problem("script_language", node, file, language=node.get("scriptFormat")))
        elif not "".join(node.xpath("bpmn:script//text()", namespaces=NS)).strip():
            found.append(_problem("script_missing", node, file))
    return found


def is_juel(text: str | None) -> bool:
    """JUEL (`${…}`, `#{…}`, Camunda 7) or FEEL (`=…`, Camunda 8): no Python starts with `=`."""
    value = (text or "").strip()
    return "${" in value or "#{" in value or value.startswith("=")


def _expressions(process, file: str) -> list[Problem]:
    """JUEL or FEEL where the engine reads Python: named on the flow (or task) that carries it."""
    found = []
    for flow in _bpmn(process, "sequenceFlow"):
        condition = flow.xpath("bpmn:conditionExpression", namespaces=NS)
        if condition and is_juel(condition[0].text):
            found.append(_problem("juel", flow, file, expression=condition[0].text.strip(), what="condition"))
    for node in _bpmn(process, "multiInstanceLoopCharacteristics"):
        for part in ("loopCardinality", "completionCondition"):
            for text in node.xpath(f"bpmn:{part}/text()", namespaces=NS):
                if is_juel(text):
                    found.append(
                        _problem("juel", node.getparent(), file, expression=text.strip(), what="expression")
                    )
    return found


def _gateways(process, file: str) -> list[Problem]:
    """An exclusive gateway's flows each carry a condition, but for its default flow."""
    found = []
    flows = {flow.get("id"): flow for flow in _bpmn(process, "sequenceFlow")}
    for gateway in _bpmn(process, "exclusiveGateway", "inclusiveGateway"):
        outgoing = [flow for flow in flows.values() if flow.get("sourceRef") == gateway.get("id")]
        if len(outgoing) < 2:
            continue
        for flow in outgoing:
            written = "".join(flow.xpath("bpmn:conditionExpression//text()", namespaces=NS)).strip()
            if flow.get("id") != gateway.get("default") and not written:
                found.append(
                    _problem(
                        "flow_without_condition", flow, file, gateway=gateway.get("name") or gateway.get("id")
                    )
                )
    return found


def _splits(process, file: str) -> list[Problem]:
    """Several flows leaving a task or an event: BPMN's implicit parallel split, which the engine refuses."""
    sources: dict[str, int] = {}
    for flow in _bpmn(process, "sequenceFlow"):
        sources[flow.get("sourceRef")] = sources.get(flow.get("sourceRef"), 0) + 1
    nodes = _bpmn(
        process,
        *ACTIVITIES,
        "startEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
    )
    return [
        _problem("several_outgoing", node, file, count=sources[node.get("id")])
        for node in nodes
        if sources.get(node.get("id"), 0) > 1
    ]


def _starts(process, file: str) -> list[Problem]:
    """A case starts at one place: one start event in a process and in each sub-process (an event
    sub-process starts at its own event)."""
    found = []
    for container in [process, *_bpmn(process, "subProcess", "transaction")]:
        if container.get("triggeredByEvent") == "true":
            continue
        starts = container.xpath("bpmn:startEvent", namespaces=NS)
        if not starts:
            code = "process_without_start" if container is process else "subprocess_without_start"
            found.append(_problem(code, container, file))
        if len(starts) > 1:
            found += [_problem("several_starts", start, file, count=len(starts)) for start in starts]
    return found


def _timers(process, file: str) -> list[Problem]:
    found = []
    for timer in _bpmn(process, "timerEventDefinition"):
        if not timer.xpath("bpmn:timeDuration|bpmn:timeDate|bpmn:timeCycle", namespaces=NS):
            found.append(_problem("timer_empty", timer.getparent(), file))
    return found


def _multi_instances(process, file: str) -> list[Problem]:
    found = []
    for node in _bpmn(process, "multiInstanceLoopCharacteristics"):
        counted = node.xpath("bpmn:loopCardinality|bpmn:loopDataInputRef", namespaces=NS)
        if not counted and not node.get(f"{{{CAMUNDA}}}collection"):
            found.append(_problem("multi_instance_uncounted", node.getparent(), file))
    return found


def _data_associations(process, file: str) -> list[Problem]:
    """A data association carries a data object's value into or out of a task; one that joins anything
    else (a property, an input of a task's own specification, nothing) the engine cannot resolve."""
    objects = {
        node.get("id") for node in _bpmn(process, "dataObjectReference", "dataObject", "dataStoreReference")
    }
    found = []
    for node in _bpmn(
        process, *ACTIVITIES, "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent"
    ):
        ends = [
            *node.xpath("bpmn:dataInputAssociation/bpmn:sourceRef/text()", namespaces=NS),
            *node.xpath("bpmn:dataOutputAssociation/bpmn:targetRef/text()", namespaces=NS),
        ]
        inputs = node.xpath("bpmn:dataInputAssociation|bpmn:dataOutputAssociation", namespaces=NS)
        if len(ends) < len(inputs) or any(end.strip() not in objects for end in ends):
            found.append(_problem("data_association", node, file))
    return found


def _called_processes(process, file: str, deployed: set[str]) -> list[Problem]:
    ids = set(process.getroottree().getroot().xpath("bpmn:process/@id", namespaces=NS)) | deployed
    return [
        _problem(
            "called_process_missing" if call.get("calledElement") else "call_without_process",
            call,
            file,
            called=call.get("calledElement") or "",
        )
        for call in _bpmn(process, "callActivity")
        if call.get("calledElement") not in ids
    ]


def _unsupported(process, file: str) -> list[Problem]:
    found = [
        _problem("element_not_supported", node, file, tag=tag)
        for tag in ("complexGateway", "adHocSubProcess")
        for node in _bpmn(process, tag)
    ]
    return found


CHECKS = (
    _data_stores,
    _service_tasks,
    _linked_forms,
    _listeners,
    _rule_tasks,
    _scripts,
    _expressions,
    _gateways,
    _splits,
    _starts,
    _timers,
    _multi_instances,
    _data_associations,
    _unsupported,
)


def _once(problems: list[Problem]) -> list[Problem]:
    seen, kept = set(), []
    for problem in problems:
        key = (problem.code, problem.element)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept
