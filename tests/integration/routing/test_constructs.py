"""What BPMN designers draw, run end to end: each construct in a small complaint diagram of its own
(written here, one per construct SpiffWorkflow runs), deployed through the API (proved first), then
a complaint started from intake's event and driven by the API as staff, operators and other systems
would (timers fired, messages sent, tasks completed) until the case is completed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.routing.conftest import open_tasks, task_id

DEFINITIONS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_construct" targetNamespace="http://bpmn.io/schema/bpmn"'
    ' exporter="complaint routing test constructs (hand-written)">{messages}{processes}</bpmn:definitions>'
)


def task(element: str, name: str | None = None) -> str:
    return f'<bpmn:userTask id="{element}" name="{name or element}" camunda:candidateGroups="service_desk"/>'


def flows(*pairs: str) -> str:
    """Sequence flows `a>b`, or `a>b:condition` (Python)."""
    made = []
    for pair in pairs:
        ends, _, condition = pair.partition(":")
        source, target = ends.split(">")
        expression = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
        made.append(
            f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}">'
            f"{expression}</bpmn:sequenceFlow>"
        )
    return "".join(made)


def process(element: str, body: str, executable: bool = True) -> str:
    return f'<bpmn:process id="{element}" isExecutable="{str(executable).lower()}">{body}</bpmn:process>'


def complaint(body: str, *others: str, messages: tuple[str, ...] = (), declared: str = "") -> str:
    """A complaint process from `start` to `end` around `body`; `declared`: its signals and errors."""
    declared += "".join(f'<bpmn:message id="m_{name}" name="{name}"/>' for name in messages)
    main = process("complaint", f'<bpmn:startEvent id="start"/>{body}<bpmn:endEvent id="end"/>')
    return DEFINITIONS.format(messages=declared, processes=main + "".join(others))


def sub(element: str, body: str, extra: str = "") -> str:
    """An embedded sub-process from its start `{element}_s` to its end `{element}_e`."""
    inner = f'<bpmn:startEvent id="{element}_s"/>{body}<bpmn:endEvent id="{element}_e"/>'
    return f'<bpmn:subProcess id="{element}" name="{element}"{extra}>{inner}</bpmn:subProcess>'


def called(element: str, body: str) -> str:
    return process(
        element, f'<bpmn:startEvent id="{element}_s"/>{body}<bpmn:endEvent id="{element}_e"/>', False
    )


def timer(element: str, kind: str = "intermediateCatchEvent", extra: str = "") -> str:
    definition = (
        "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>"
    )
    return f'<bpmn:{kind} id="{element}"{extra}>{definition}</bpmn:{kind}>'


def message(element: str, name: str, kind: str = "intermediateCatchEvent", extra: str = "") -> str:
    return f'<bpmn:{kind} id="{element}"{extra}><bpmn:messageEventDefinition messageRef="m_{name}"/></bpmn:{kind}>'


CONSTRUCTS = {
    "a user task in an embedded sub-process": (
        complaint(sub("s", task("t") + flows("s_s>t", "t>s_e")) + flows("start>s", "s>end")),
        (),
    ),
    "a sub-process in a sub-process": (
        complaint(
            sub(
                "outer",
                sub("inner", task("t") + flows("inner_s>t", "t>inner_e"))
                + flows("outer_s>inner", "inner>outer_e"),
            )
            + flows("start>outer", "outer>end")
        ),
        (),
    ),
    "a call activity to a process of the same file": (
        complaint(
            '<bpmn:callActivity id="c" calledElement="level"/>' + flows("start>c", "c>end"),
            called("level", task("t") + flows("level_s>t", "t>level_e")),
        ),
        (),
    ),
    "call activities two levels deep": (
        complaint(
            '<bpmn:callActivity id="c" calledElement="one"/>' + flows("start>c", "c>end"),
            called("one", '<bpmn:callActivity id="c2" calledElement="two"/>' + flows("one_s>c2", "c2>one_e")),
            called("two", task("t") + flows("two_s>t", "t>two_e")),
        ),
        (),
    ),
    "an event-based gateway between a message and a timer": (
        complaint(
            '<bpmn:eventBasedGateway id="g"/>'
            + message("answered", "answered")
            + timer("waited")
            + task("t")
            + flows("start>g", "g>answered", "g>waited", "answered>t", "waited>t", "t>end"),
            messages=("answered",),
        ),
        (),
    ),
    "a message catch event": (
        complaint(
            message("answered", "answered") + task("t") + flows("start>answered", "answered>t", "t>end"),
            messages=("answered",),
        ),
        ("answered",),
    ),
    "a receive task": (
        complaint(
            '<bpmn:receiveTask id="r" messageRef="m_answered"/>' + flows("start>r", "r>end"),
            messages=("answered",),
        ),
        ("answered",),
    ),
    "a timer catch event": (
        complaint(timer("wait") + task("t") + flows("start>wait", "wait>t", "t>end")),
        (),
    ),
    "a signal thrown in one branch and caught in another": (
        complaint(
            '<bpmn:parallelGateway id="split"/><bpmn:parallelGateway id="join"/>'
            '<bpmn:intermediateCatchEvent id="caught"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateCatchEvent>'
            '<bpmn:intermediateThrowEvent id="thrown"><bpmn:signalEventDefinition signalRef="sig"/></bpmn:intermediateThrowEvent>'
            + task("t")
            + flows(
                "start>split", "split>caught", "split>t", "t>thrown", "caught>join", "thrown>join", "join>end"
            ),
            declared='<bpmn:signal id="sig" name="ready"/>',
        ),
        (),
    ),
    "a parallel multi-instance user task": (
        complaint(
            task("t").replace(
                "/>",
                "><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2"
                "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>",
            )
            + flows("start>t", "t>end")
        ),
        (),
    ),
    "a sequential multi-instance user task": (
        complaint(
            task("t").replace(
                "/>",
                '><bpmn:multiInstanceLoopCharacteristics isSequential="true"><bpmn:loopCardinality>2'
                "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>",
            )
            + flows("start>t", "t>end")
        ),
        (),
    ),
    "an interrupting timer on a sub-process's border": (
        complaint(
            sub("s", task("t") + flows("s_s>t", "t>s_e"))
            + timer("late", "boundaryEvent", ' attachedToRef="s"')
            + task("escalated")
            + flows("start>s", "s>end", "late>escalated", "escalated>end")
        ),
        (),
    ),
    "a message on a call activity's border": (
        complaint(
            '<bpmn:callActivity id="c" calledElement="level"/>'
            + message("withdrawn", "withdrawn", "boundaryEvent", ' attachedToRef="c"')
            + flows("start>c", "c>end", "withdrawn>end"),
            called("level", task("t") + flows("level_s>t", "t>level_e")),
            messages=("withdrawn",),
        ),
        ("withdrawn",),
    ),
    "a non-interrupting event sub-process started by a message": (
        complaint(
            task("t")
            + flows("start>t", "t>end")
            + '<bpmn:subProcess id="ev" triggeredByEvent="true">'
            + message("noted", "note", "startEvent", ' isInterrupting="false"')
            + '<bpmn:scriptTask id="record" scriptFormat="python"><bpmn:script>notes = 1</bpmn:script></bpmn:scriptTask>'
            + '<bpmn:endEvent id="ev_e"/>'
            + flows("noted>record", "record>ev_e")
            + "</bpmn:subProcess>",
            messages=("note",),
        ),
        ("note",),
    ),
    "parallel user tasks in a sub-process": (
        complaint(
            sub(
                "s",
                '<bpmn:parallelGateway id="p1"/><bpmn:parallelGateway id="p2"/>'
                + task("a")
                + task("b")
                + flows("s_s>p1", "p1>a", "p1>b", "a>p2", "b>p2", "p2>s_e"),
            )
            + flows("start>s", "s>end")
        ),
        (),
    ),
    "an inclusive gateway on the complaint's data": (
        complaint(
            '<bpmn:inclusiveGateway id="fork" default="f_fork_b"/><bpmn:inclusiveGateway id="merge"/>'
            + task("a")
            + task("b")
            + flows(
                "start>fork",
                'fork>a:complaint["category"] == "quality"',
                "fork>b",
                "a>merge",
                "b>merge",
                "merge>end",
            )
        ),
        (),
    ),
    "an error end event caught on the sub-process's border": (
        complaint(
            sub(
                "s",
                task("t")
                + '<bpmn:endEvent id="failed"><bpmn:errorEventDefinition errorRef="err"/></bpmn:endEvent>'
                + flows("s_s>t", "t>failed"),
            )
            + '<bpmn:boundaryEvent id="caught" attachedToRef="s"><bpmn:errorEventDefinition errorRef="err"/></bpmn:boundaryEvent>'
            + task("after_error")
            + flows("start>s", "s>end", "caught>after_error", "after_error>end"),
            declared='<bpmn:error id="err" name="refused" errorCode="refused"/>',
        ),
        (),
    ),
    "a script in a called process deciding the caller's gateway": (
        complaint(
            '<bpmn:callActivity id="c" calledElement="level"/><bpmn:exclusiveGateway id="g" default="f_g_end"/>'
            + task("t")
            + flows("start>c", "c>g", "g>t:major", "g>end", "t>end"),
            called(
                "level",
                '<bpmn:scriptTask id="s" scriptFormat="python"><bpmn:script>major = complaint["severity"] == "major"'
                "</bpmn:script></bpmn:scriptTask>" + flows("level_s>s", "s>level_e"),
            ),
        ),
        (),
    ),
}


def _drive(api, staff, routing, case: str, messages: tuple[str, ...]) -> list[str]:
    """Act on the case until it is completed: fire a timer, send a message not sent yet, complete a task."""
    ops, desk, done = staff("operations_manager"), staff("service_desk"), []
    to_send = list(messages)
    for _ in range(20):
        if api.get(f"/cases/{case}", headers=ops).json["status"] == "completed":
            return done
        timers = api.get(f"/cases/{case}/timers", headers=ops).json
        if timers:
            fired = api.post(
                f"/cases/{case}/timers/{timers[0]['id']}/fire", json={"reason": "test"}, headers=ops
            )
            assert fired.status_code == 200, fired.json
            done.append(f"timer {timers[0]['element_id']}")
        elif to_send:
            name = to_send.pop(0)
            sent = api.post(
                f"/cases/{case}/messages",
                json={"name": name, "data": {}, "idempotency_key": name},
                headers=desk,
            )
            assert sent.status_code in (200, 201, 202), sent.json
            done.append(f"message {name}")
        elif open_tasks(routing, case):
            element = open_tasks(routing, case)[0]
            completed = api.post(
                f"/tasks/{task_id(routing, case, element)}/complete", json={"data": {}}, headers=desk
            )
            assert completed.status_code == 200, completed.json
            done.append(f"task {element}")
        else:
            raise AssertionError(f"stuck after {done}: {api.get(f'/cases/{case}', headers=ops).json}")
    raise AssertionError(f"not completed after {done}")


@pytest.mark.parametrize("construct", list(CONSTRUCTS))
def test_a_construct_deploys_passes_the_proof_and_runs_a_complaint_to_the_end(
    routing, start, api, staff, construct
):
    bpmn, messages = CONSTRUCTS[construct]
    body = {"bpmn": bpmn, "bpmn_name": "construct.bpmn", "dmn": {}}

    deployed = api.post("/processes", json=body, headers=staff("process_designer"))

    assert deployed.status_code == 201, deployed.json
    assert deployed.json["proof"]["passed"], deployed.json["proof"]
    case = start(number="TS-20261122-0201", category="quality")
    _drive(api, staff, routing, case, messages)  # raises unless the case is completed


@pytest.mark.parametrize(
    ("construct", "after"),
    [
        ("an event-based gateway between a message and a timer", ["t"]),
        ("an interrupting timer on a sub-process's border", ["escalated"]),
    ],
)
def test_a_timer_of_a_gateway_or_a_sub_process_border_falls_due_on_the_services_clock(
    routing, start, api, staff, clock, construct, after
):
    body = {"bpmn": CONSTRUCTS[construct][0], "bpmn_name": "construct.bpmn", "dmn": {}}
    assert api.post("/processes", json=body, headers=staff("process_designer")).status_code == 201
    case = start(number="TS-20261122-0202")
    scheduler = routing.scheduler()

    clock.advance(timedelta(minutes=59))
    early = scheduler.tick()
    clock.advance(timedelta(minutes=2))
    fired = scheduler.tick()

    assert (early, fired) == (0, 1)
    assert open_tasks(routing, case) == after
