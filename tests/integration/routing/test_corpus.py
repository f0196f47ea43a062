"""The corpus: what designers draw in other modelers (Camunda Modeler, bpmn.io, Signavio, Bizagi,
ARIS, Trisotech, Yaoqiang), written here as small diagrams of our own, each reproducing one construct
or one failure class seen in diagrams from those tools, and deployed through the API as a designer
would.

The 18 constructs of test_constructs.py (there proved and run to the end as complaint processes) are
deployed here again under a process id of their own: accepted, and never taking over
complaint intake. Each failure class below is refused, and the refusal names the problems expected
of it (all at once when the diagram has several). Whatever the outcome: never a 5xx and never a
stack trace in the log; every refusal names the element by id (its name too when it has one, and
its type beside an id the modeler generated), says what to do, is Chinese for a Chinese designer,
and holds no `None`, no `<Element …>`, no memory address and no doubled punctuation.
"""

from __future__ import annotations

import logging
import re
from itertools import pairwise

import pytest
from lxml import etree

from services.routing.engine.problems import WORDS, is_generated
from tests.conftest import MALL
from tests.integration.routing.conftest import deploy
from tests.integration.routing.test_constructs import CONSTRUCTS

INTERNALS = re.compile(
    r"\bNone\b|<Element|0x[0-9a-f]{6,}|\.\s*\.|。\s*。|[;；]\s*[;；]|\.\s*[;；]|Traceback|KeyError"
)
HAN = re.compile(r"[\u4e00-\u9fff]")
GENERATED = re.compile(r"(?:element|元素) ([^“(（]*)(“[^”]*”)?\s?[(（]([^()（）]+)[)）][:：]")
FILE = "corpus.bpmn"

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_corpus"'
    ' targetNamespace="http://bpmn.io/schema/bpmn" exporter="complaint routing corpus (hand-written)">'
)


def diagram(
    body: str,
    flows: str = "",
    *,
    before: str = "",
    after: str = "",
    executable: str = "true",
    process: str = "corpus_case",
) -> str:
    """One process `process` from `start` through `body` to `end`, `flows` between them; `before`
    (messages, errors) and `after` (other processes) beside it."""
    inner = f'<bpmn:startEvent id="start" name="投诉受理"/>{body}<bpmn:endEvent id="end" name="结案"/>{flows}'
    return (
        f'{HEAD}{before}<bpmn:process id="{process}" isExecutable="{executable}">{inner}</bpmn:process>'
        f"{after}</bpmn:definitions>"
    )


def flow(source: str, target: str, condition: str = "", element: str = "") -> str:
    written = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return (
        f'<bpmn:sequenceFlow id="{element or f"f_{source}_{target}"}" sourceRef="{source}" '
        f'targetRef="{target}">{written}</bpmn:sequenceFlow>'
    )


def line(*elements: str) -> str:
    """Flows start → each element → end."""
    chain = ["start", *elements, "end"]
    return "".join(flow(a, b) for a, b in pairwise(chain))


def handled(element: str = "handle", name: str = "处理投诉") -> str:
    return f'<bpmn:userTask id="{element}" name="{name}" camunda:candidateGroups="service_desk"/>'


def one(task: str, element: str) -> str:
    """A diagram running `task` (id `element`) and a user task."""
    return diagram(task + handled(), line(element, "handle"))


def timer(definition: str, element: str = "wait", name: str = "等待回复") -> str:
    return (
        f'<bpmn:intermediateCatchEvent id="{element}" name="{name}"><bpmn:timerEventDefinition>{definition}'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )


def gateway(condition: str, other: str = "", default: bool = True) -> str:
    """An exclusive gateway deciding between two user tasks by `condition`."""
    chosen = ' default="f_decide_plain"' if default else ""
    body = (
        f'<bpmn:exclusiveGateway id="decide" name="金额大吗"{chosen}/>'
        + handled("refund", "退款")
        + handled("plain", "普通处理")
    )
    flows = (
        flow("start", "decide")
        + flow("decide", "refund", condition)
        + flow("decide", "plain", other)
        + flow("refund", "end")
        + flow("plain", "end")
    )
    return diagram(body, flows)


def pools(*ids: str, executable: str = "true") -> str:
    processes = "".join(
        f'<bpmn:process id="{each}" name="流程{each}" isExecutable="{executable}"><bpmn:startEvent id="{each}_s"/>'
        f'<bpmn:endEvent id="{each}_e"/>{flow(f"{each}_s", f"{each}_e")}</bpmn:process>'
        for each in ids
    )
    return f"{HEAD}{processes}</bpmn:definitions>"


SCRIPT = '<bpmn:scriptTask id="score" name="打分" scriptFormat="{language}"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'
LOOP = "<bpmn:multiInstanceLoopCharacteristics>{inner}</bpmn:multiInstanceLoopCharacteristics>"

# name -> (diagram, the problem kinds its refusal names)
REFUSED: dict[str, tuple[str, set[str]]] = {
    "a service task calling a Java class": (
        one(
            '<bpmn:serviceTask id="lookup" name="查询会员" camunda:class="com.mall.MemberLookup"/>', "lookup"
        ),
        {"service_task"},
    ),
    "a send task with a delegate expression": (
        one('<bpmn:sendTask id="tell" name="通知商户" camunda:delegateExpression="${tellShop}"/>', "tell"),
        {"service_task"},
    ),
    "a task with a Camunda expression": (
        one('<bpmn:task id="calc" name="计算赔付" camunda:expression="${payout.compute(amount)}"/>', "calc"),
        {"service_task"},
    ),
    "a service task for an external worker's topic": (
        one(
            '<bpmn:serviceTask id="refund" name="退款" camunda:type="external" camunda:topic="refunds"/>',
            "refund",
        ),
        {"service_task"},
    ),
    "an execution listener and a task listener": (
        one(
            '<bpmn:task id="log" name="记录日志"><bpmn:extensionElements><camunda:executionListener'
            ' class="com.mall.Audit" event="start"/></bpmn:extensionElements></bpmn:task>',
            "log",
        ).replace(
            'camunda:candidateGroups="service_desk"/>',
            'camunda:candidateGroups="service_desk"><bpmn:extensionElements>'
            '<camunda:taskListener event="create" expression="${mail.send(task)}"/></bpmn:extensionElements>'
            "</bpmn:userTask>",
        ),
        {"listener"},
    ),
    "a data store": (
        one('<bpmn:dataStoreReference id="members" name="会员库"/>', "handle").replace(
            line("handle", "handle"), line("handle")
        ),
        {"data_store"},
    ),
    "a JUEL condition on a gateway's flow": (gateway("${amount &gt; 100}"), {"juel"}),
    "a JUEL timer": (
        diagram(
            timer("<bpmn:timeDuration>${waitFor}</bpmn:timeDuration>") + handled(), line("wait", "handle")
        ),
        {"timer_not_supported"},
    ),
    "a JUEL deferred condition on a gateway's flow": (gateway("#{amount &gt; 100}"), {"juel"}),
    "a JUEL loop cardinality": (
        diagram(
            handled().replace(
                "/>",
                ">"
                + LOOP.format(inner="<bpmn:loopCardinality>${shops.size()}</bpmn:loopCardinality>")
                + "</bpmn:userTask>",
            ),
            line("handle"),
        ),
        {"juel"},
    ),
    "a cron timer": (
        diagram(timer("<bpmn:timeCycle>0 0 9 * * ?</bpmn:timeCycle>") + handled(), line("wait", "handle")),
        {"timer_not_supported"},
    ),
    "a repeating timer leading to a user task": (
        diagram(
            '<bpmn:boundaryEvent id="remind" name="每小时提醒" cancelActivity="false" attachedToRef="handle">'
            "<bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>"
            "</bpmn:boundaryEvent>" + handled() + handled("chase", "催办"),
            line("handle") + flow("remind", "chase") + flow("chase", "end"),
        ),
        {"cycle_to_user_task"},
    ),
    "a duration written as a cycle": (
        diagram(timer("<bpmn:timeDuration>R3/PT1H</bpmn:timeDuration>") + handled(), line("wait", "handle")),
        {"timer_kind_mismatch"},
    ),
    "a JavaScript script": (
        one(SCRIPT.format(language="javascript", script="score = 1;"), "score"),
        {"script_language"},
    ),
    "a Groovy script": (
        one(SCRIPT.format(language="groovy", script="execution.setVariable('score', 1)"), "score"),
        {"script_language"},
    ),
    "a script task with no script": (
        one(
            '<bpmn:scriptTask id="score" name="打分" scriptFormat="python" camunda:resource="score.py"/>',
            "score",
        ),
        {"script_missing"},
    ),
    "a script importing a module": (
        one(SCRIPT.format(language="python", script="import os"), "score"),
        {"python_refused"},
    ),
    "a script typed with Chinese punctuation": (
        one(SCRIPT.format(language="python", script="score = max(1，2)"), "score"),
        {"python_syntax"},
    ),
    "a business rule task with no decision": (
        one('<bpmn:businessRuleTask id="rate" name="定级"/>', "rate"),
        {"decision_missing"},
    ),
    "a business rule task whose decision is not deployed": (
        one('<bpmn:businessRuleTask id="rate" name="定级" camunda:decisionRef="severity_rules"/>', "rate"),
        {"decision_not_deployed"},
    ),
    "no executable process": (
        diagram(handled(), line("handle"), executable="false"),
        {"process_not_executable"},
    ),
    "several executable pools": (pools("shop_a", "shop_b"), {"several_main_processes"}),
    # the engine stops at such a flow: what it finds after it is named in the same refusal
    "a flow with no condition and a task for a group that is no queue": (
        gateway("amount &gt; 100", default=False).replace(
            'id="refund" name="退款" camunda:candidateGroups="service_desk"',
            'id="refund" name="退款" camunda:candidateGroups="accounting"',
        ),
        {"flow_without_condition", "task_queue_unknown"},
    ),
    "a gateway's flow with no condition that is not the default": (
        gateway("amount &gt; 100", default=False),
        {"flow_without_condition"},
    ),
    "several flows out of a task without a gateway": (
        diagram(
            handled() + handled("tell", "告知顾客") + handled("log", "登记"),
            flow("start", "handle")
            + flow("handle", "tell")
            + flow("handle", "log")
            + flow("tell", "end")
            + flow("log", "end"),
        ),
        {"several_outgoing"},
    ),
    "several start events": (
        diagram(
            '<bpmn:startEvent id="phoned" name="电话投诉"/>' + handled(),
            line("handle") + flow("phoned", "handle"),
        ),
        {"several_starts"},
    ),
    "no start event": (
        f'{HEAD}<bpmn:process id="corpus_case" isExecutable="true">{handled()}<bpmn:endEvent id="end"/>'
        f"{flow('handle', 'end')}</bpmn:process></bpmn:definitions>",
        {"process_without_start"},
    ),
    "a sub-process with no start event": (
        diagram(
            f'<bpmn:subProcess id="inner" name="核实">{handled()}<bpmn:endEvent id="inner_e"/>'
            f"{flow('handle', 'inner_e')}</bpmn:subProcess>",
            line("inner"),
        ),
        {"subprocess_without_start"},
    ),
    "a timer with no time": (diagram(timer("") + handled(), line("wait", "handle")), {"timer_empty"}),
    "a multi-instance task without a count": (
        diagram(handled().replace("/>", ">" + LOOP.format(inner="") + "</bpmn:userTask>"), line("handle")),
        {"multi_instance_uncounted"},
    ),
    "a data association to a task's own property": (
        diagram(
            '<bpmn:userTask id="handle" name="处理投诉" camunda:candidateGroups="service_desk">'
            '<bpmn:property id="handle_input" name="input"/><bpmn:dataInputAssociation id="da">'
            "<bpmn:sourceRef>handle_input</bpmn:sourceRef><bpmn:targetRef>handle_input</bpmn:targetRef>"
            "</bpmn:dataInputAssociation></bpmn:userTask>",
            line("handle"),
        ),
        {"data_association"},
    ),
    "a call to a process that is neither drawn nor deployed": (
        one('<bpmn:callActivity id="verify" name="核实" calledElement="shop_check"/>', "verify"),
        {"called_process_missing"},
    ),
    "a call activity naming no process": (
        one('<bpmn:callActivity id="verify" name="核实"/>', "verify"),
        {"call_without_process"},
    ),
    "a complex gateway": (
        diagram('<bpmn:complexGateway id="vote" name="会签"/>' + handled(), line("vote", "handle")),
        {"element_not_supported"},
    ),
    "an ad-hoc sub-process": (
        diagram(
            f'<bpmn:adHocSubProcess id="free" name="自由处理">{handled()}</bpmn:adHocSubProcess>',
            line("free"),
        ),
        {"element_not_supported"},
    ),
    "a user task whose form is a linked Camunda Form": (
        one(
            '<bpmn:userTask id="check" name="核查" camunda:candidateGroups="service_desk" camunda:formRef="check-form"/>',
            "check",
        ),
        {"form_linked"},
    ),
    "a user task with no lane and no candidate group": (
        one('<bpmn:userTask id="check" name="核查"/>', "check"),
        {"task_without_queue"},
    ),
    "a user task for a group that is no queue": (
        one('<bpmn:userTask id="check" name="核查" camunda:candidateGroups="accounting"/>', "check"),
        {"task_queue_unknown"},
    ),
    "a lane named after no role": (
        diagram('<bpmn:userTask id="check" name="核查"/>', line("check")).replace(
            '<bpmn:startEvent id="start"',
            '<bpmn:laneSet id="lanes"><bpmn:lane id="clerks" name="Clerks"><bpmn:flowNodeRef>check</bpmn:flowNodeRef>'
            '</bpmn:lane></bpmn:laneSet><bpmn:startEvent id="start"',
        ),
        {"lane_not_queue"},
    ),
    "an unknown event property": (
        one(
            '<bpmn:scriptTask id="score" name="打分" scriptFormat="python"><bpmn:extensionElements>'
            '<camunda:properties><camunda:property name="event" value="case.teleported"/></camunda:properties>'
            "</bpmn:extensionElements><bpmn:script>score = 1</bpmn:script></bpmn:scriptTask>",
            "score",
        ),
        {"event_unknown"},
    ),
    "a FEEL condition on a gateway's flow": (gateway("=amount &gt; 100"), {"juel"}),
    "a FEEL timer": (
        diagram(timer("<bpmn:timeDuration>=waitFor</bpmn:timeDuration>") + handled(), line("wait", "handle")),
        {"juel"},
    ),
    "a notification to a party notify cannot reach": (
        one(
            '<bpmn:scriptTask id="score" name="打分" scriptFormat="python"><bpmn:extensionElements>'
            '<camunda:properties><camunda:property name="notify" value="complaint_answered"/>'
            '<camunda:property name="notify_to" value="fax"/></camunda:properties>'
            "</bpmn:extensionElements><bpmn:script>score = 1</bpmn:script></bpmn:scriptTask>",
            "score",
        ),
        {"notify_to_unknown"},
    ),
    "a department to notify beside no department manager": (
        one(
            '<bpmn:scriptTask id="score" name="打分" scriptFormat="python"><bpmn:extensionElements>'
            '<camunda:properties><camunda:property name="notify" value="assist_requested"/>'
            '<camunda:property name="notify_to" value="operations_manager"/>'
            '<camunda:property name="notify_department" value="department_asked"/></camunda:properties>'
            "</bpmn:extensionElements><bpmn:script>score = 1</bpmn:script></bpmn:scriptTask>",
            "score",
        ),
        {"notify_department_alone"},
    ),
    "a flow to an element not in the diagram": (
        diagram(handled(), line("handle") + flow("handle", "nowhere", element="f_lost")),
        {"dangling_flow"},
    ),
    "Signavio's generated ids": (
        one(
            '<bpmn:serviceTask id="sid-34E8C3A5-1A2B-4C5D-8E9F-0123456789AB" name="Task 3"/>',
            "sid-34E8C3A5-1A2B-4C5D-8E9F-0123456789AB",
        ),
        {"service_task"},
    ),
    "Bizagi's generated ids, one unnamed": (
        one(
            '<bpmn:userTask id="_b6542261-9b3f-4e1d-8a4c-2f0e6d7c1a90"/>',
            "_b6542261-9b3f-4e1d-8a4c-2f0e6d7c1a90",
        ),
        {"task_without_queue"},
    ),
    "a name drawn on two lines": (
        one('<bpmn:serviceTask id="lookup" name="查询&#10;会员信息"/>', "lookup"),
        {"service_task"},
    ),
    "several problems in one diagram": (
        diagram(
            '<bpmn:serviceTask id="lookup" name="查询会员" camunda:class="com.mall.Lookup"/>'
            '<bpmn:dataStoreReference id="members" name="会员库"/>'
            + timer("")
            + SCRIPT.format(language="groovy", script="x = 1")
            + '<bpmn:callActivity id="verify" name="核实" calledElement="shop_check"/>',
            line("lookup", "wait", "score", "verify"),
        ),
        {"service_task", "data_store", "timer_empty", "script_language", "called_process_missing"},
    ),
    "not XML": (
        HEAD + '<bpmn:process id="corpus_case" isExecutable="true"><bpmn:startEvent id="start">'
        "</bpmn:process></bpmn:definitions>",
        {"not_xml"},
    ),
}

ACCEPTED = {
    construct: bpmn.replace('<bpmn:process id="complaint"', '<bpmn:process id="corpus_construct"')
    for construct, (bpmn, _) in CONSTRUCTS.items()
}


def marker(code: str) -> str:
    """The longest fixed words of the problem's English sentence: what shows it was named."""
    return max(re.split(r"\{[^}]*\}", WORDS[code]["en"][0]), key=len).strip()


def outcome(api, staff, text: str, language: str):
    body = {"bpmn": text, "bpmn_name": FILE, "dmn": {}}
    headers = {**staff("process_designer"), "Accept-Language": language}
    return api.post("/processes", json=body, headers=headers)


def sentence_faults(problem: str, language: str) -> list[str]:
    """What is wrong with one refusal sentence (empty when it is as a designer should read it)."""
    faults = []
    if INTERNALS.search(problem):
        faults.append("engine internals or doubled punctuation")
    if language == "zh-CN" and not HAN.search(problem.split("：", 1)[-1]):
        faults.append("not in Chinese")
    fix = problem.rsplit("；" if language == "zh-CN" else "; ", 1)
    if len(fix) != 2 or len(fix[1].strip()) < 4:
        faults.append("no 'what to do'")
    head = "元素 " if language == "zh-CN" else "element "
    if not problem.startswith(head) and not (FILE in problem and "line" in problem):
        faults.append("names no element (nor the file and line of unreadable XML)")
    generated = GENERATED.match(problem)
    if generated and is_generated(generated.group(3)) and not generated.group(1).strip():
        faults.append("a generated id without the element's type")
    return faults


def named_element(text: str, problem: str) -> bool:
    """The sentence names an element of the diagram by its id, and by its name (on one line) when it has one."""
    root = etree.fromstring(text.encode(), etree.XMLParser(recover=True))
    for node in root.iter() if root is not None else ():
        element = node.get("id") if isinstance(node.tag, str) else None
        if element and (
            f"({element})" in problem
            or f"（{element}）" in problem
            or f" {element}:" in problem
            or f" {element}：" in problem
        ):
            name = " ".join((node.get("name") or "").split())
            return not name or name in problem
    return FILE in problem


def test_the_corpus_counts_at_least_forty_diagrams_one_per_failure_class():
    assert len(REFUSED) + len(ACCEPTED) >= 40
    assert len(ACCEPTED) == 18
    assert all(code in WORDS for _, codes in REFUSED.values() for code in codes)


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_failure_class_is_refused_naming_every_problem_in_the_designers_words(
    routing, api, staff, caplog, case
):
    complaint = deploy(routing)
    text, expected = REFUSED[case]
    caplog.set_level(logging.WARNING)
    faults: list[str] = []

    for language in ("en", "zh-CN"):
        answer = outcome(api, staff, text, language)
        assert answer.status_code == 400, (language, answer.status_code, answer.json)
        problems = answer.json["errors"]["json"]["bpmn"]
        for problem in problems:
            found = sentence_faults(problem, language)
            if not named_element(text, problem):
                found.append("the element's id or name is missing")
            faults += [f"{language}: {each}: {problem}" for each in found]
        if language == "en":
            missing = [code for code in expected if not any(marker(code) in problem for problem in problems)]
            assert not missing, (missing, problems)

    assert not faults
    with routing.uow() as uow:
        assert uow.processes.active(MALL, "complaint").id == complaint.id
    traces = [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert not traces, [record.getMessage() for record in traces]


@pytest.mark.parametrize("construct", list(ACCEPTED))
def test_a_construct_is_accepted_as_a_process_of_its_own(routing, api, staff, caplog, construct):
    complaint = deploy(routing)
    caplog.set_level(logging.WARNING)

    answer = outcome(api, staff, ACCEPTED[construct], "zh-CN")

    assert answer.status_code == 201, answer.json
    assert not answer.json["handles_complaints"]
    with routing.uow() as uow:
        assert uow.processes.active(MALL, "complaint").id == complaint.id
    traces = [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert not traces, [record.getMessage() for record in traces]


def test_a_generated_id_is_shown_with_the_elements_type_and_a_name_on_two_lines_on_one(api, staff, routing):
    deploy(routing)
    signavio = outcome(api, staff, REFUSED["Signavio's generated ids"][0], "en").json["errors"]["json"][
        "bpmn"
    ]
    bizagi = outcome(api, staff, REFUSED["Bizagi's generated ids, one unnamed"][0], "zh-CN").json["errors"][
        "json"
    ]["bpmn"]
    two_lines = outcome(api, staff, REFUSED["a name drawn on two lines"][0], "zh-CN").json["errors"]["json"][
        "bpmn"
    ]

    assert any(problem.startswith("element service task “Task 3” (sid-34E8C3A5-") for problem in signavio), (
        signavio
    )
    assert any(problem.startswith("元素 人工任务（_b6542261-") for problem in bizagi), bizagi
    assert any("“查询 会员信息”（lookup）" in problem for problem in two_lines), two_lines
    ad_hoc = outcome(api, staff, REFUSED["an ad-hoc sub-process"][0], "en").json["errors"]["json"]["bpmn"]
    assert any("an ad-hoc sub-process is not available here" in problem for problem in ad_hoc), ad_hoc
