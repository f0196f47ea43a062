"""Diagrams drawn by others (tests/fixtures/foreign_bpmn: the BPMN MIWG test suite, SpiffWorkflow's
test data, Camunda's examples, bpmn-js's fixtures), deployed through the API as a designer would.

Each is accepted or refused, never a 5xx and never a stack trace in the log; a refusal names every
problem's element (its id, and its name when it has one) and says what to do, in Chinese and in
English, with no engine internals (`None`, `<Element …>`, a memory address, doubled stops); what is
accepted is kept as a process of its own and never takes over complaint intake. Each file is also
deployed with every process ticked Executable, as its designer would do next.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from lxml import etree

from services.routing.engine.problems import is_generated
from tests.conftest import MALL
from tests.integration.routing.conftest import deploy

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "foreign_bpmn"
FILES = sorted(CORPUS.rglob("*.bpmn"))
INTERNALS = re.compile(
    r"\bNone\b|<Element|0x[0-9a-f]{6,}|\.\s*\.|。\s*。|[;；]\s*[;；]|\.\s*[;；]|Traceback|KeyError"
)
HAN = re.compile(r"[\u4e00-\u9fff]")
GENERATED = re.compile(r"(?:element|元素) ([^“(（]*)(“[^”]*”)?\s?[(（]([^()（）]+)[)）][:：]")


def executable(text: str) -> str:
    """The diagram with every process ticked Executable, as a designer does next: what it then meets."""
    text = text.replace('isExecutable="false"', 'isExecutable="true"')
    return re.sub(r"(<(?:\w+:)?process\b)(?![^>]*isExecutable)", r'\1 isExecutable="true"', text)


def variants(path: Path) -> list[tuple[str, str]]:
    """(what, text): the file as it is, and ticked executable when that changes it."""
    text = path.read_text(encoding="utf-8")
    where = str(path.relative_to(CORPUS))
    return [(where, text)] + (
        [(f"{where} (executable)", executable(text))] if executable(text) != text else []
    )


def outcome(api, staff, path: Path, text: str, language: str):
    body = {"bpmn": text, "bpmn_name": path.name, "dmn": {}}
    headers = {**staff("process_designer"), "Accept-Language": language}
    return api.post("/processes", json=body, headers=headers)


def sentence_faults(path: Path, problem: str, language: str) -> list[str]:
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
    if not problem.startswith(head) and not (path.name in problem and "line" in problem):
        faults.append("names no element (nor the file and line of unreadable XML)")
    generated = GENERATED.match(problem)
    if generated and is_generated(generated.group(3)) and not generated.group(1).strip():
        faults.append("a generated id without the element's type")
    return faults


def named_element(path: Path, problem: str) -> bool:
    """The sentence names an element of the file by its id, and by its name when it has one."""
    root = etree.parse(str(path), etree.XMLParser(recover=True)).getroot()
    for node in root.iter():
        element = node.get("id") if isinstance(node.tag, str) else None
        if element and (f"({element})" in problem or f"（{element}）" in problem or f" {element}:" in problem
                        or f" {element}：" in problem):  # fmt: skip
            name = " ".join((node.get("name") or "").split())
            return not name or name in problem
    return path.name in problem


def test_every_foreign_diagram_is_accepted_or_refused_in_the_designers_words(routing, api, staff, caplog):
    complaint = deploy(routing)
    faults: dict[str, list[str]] = {}
    accepted = []
    caplog.set_level(logging.WARNING)

    for path, (where, text) in ((file, variant) for file in FILES for variant in variants(file)):
        for language in ("en", "zh-CN"):
            answer = outcome(api, staff, path, text, language)
            if answer.status_code >= 500 or answer.status_code not in (200, 201, 400):
                faults.setdefault(where, []).append(f"{language}: {answer.status_code} {answer.json}")
                continue
            if answer.status_code in (200, 201):
                accepted.append(where)
                if answer.json["handles_complaints"]:
                    faults.setdefault(where, []).append("accepted as the complaint process")
                continue
            problems = answer.json["errors"]["json"]["bpmn"]
            for problem in problems:
                found = sentence_faults(path, problem, language)
                if not named_element(path, problem):
                    found.append("the element's id or name is missing")
                faults.setdefault(where, []).extend(f"{language}: {each}: {problem}" for each in found)

    assert not {where: listed for where, listed in faults.items() if listed}
    assert len(FILES) >= 40 and accepted
    with routing.session() as session:
        assert session.processes.active(MALL, "complaint").id == complaint.id
    traces = [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert not traces, [record.getMessage() for record in traces]
