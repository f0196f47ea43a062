"""Proving a candidate version before it is deployed (see `engine.proof`): the same engine and
sandbox as every step, probe complaints for every way triage goes, nothing written anywhere."""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass

from services.routing.engine import EngineError
from services.routing.engine.proof import ProofProblem, ProofRequest, ProofResult
from services.routing.engine.sandbox import DiagramSource
from services.routing.service_layer.context import Context
from services.routing.service_layer.probes import probe_name_zh, probes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProofReport:
    result: ProofResult
    seconds: float
    probes: int

    @property
    def passed(self) -> bool:
        return not self.result.problems

    def messages(self, language: str = "en") -> list[str]:
        """Each problem in one sentence: the probe, what went wrong where, and the path there."""
        return [_sentence(problem, self.result, language) for problem in self.result.problems]

    def summary(self, language: str = "en") -> dict:
        """What the answer says; each problem also as one sentence in `language` (the deploy's words)."""
        result = self.result
        names = result.elements
        return {
            "passed": self.passed,
            "problems": [
                {**_problem(problem, result, language), "sentence": _sentence(problem, result, language)}
                for problem in result.problems
            ],
            "reached": len(result.reached & set(names)),
            "elements": len(names),
            "coverage": round(len(result.reached & set(names)) / len(names), 4) if names else 1.0,
            "unreached": [
                {"element_id": element, "name": result.name(element, language)}
                for element in result.unreached
            ],
            "probes": self.probes,
            "walks": result.walks,
            "actions": result.actions,
            "complete": result.complete,
            "seconds": round(self.seconds, 2),
        }


# The same files under the same policy prove the same: a worker proves them once (a designer's dry
# run, then the deploy; the one-process run's start; tests deploying the shipped diagram again).
_PROVEN: dict[tuple[str, str], ProofReport] = {}
_PROVEN_SIZE = 32
_lock = threading.Lock()


def prove_source(source: DiagramSource, context: Context) -> ProofReport:
    """The proof of `source` under the mall's policy (see `_PROVEN`)."""
    key = (source.key, json.dumps(context.policy, sort_keys=True, default=str))
    with _lock:
        known = _PROVEN.get(key)
    if known is not None:
        return known
    report = _run(source, context)
    with _lock:
        if len(_PROVEN) >= _PROVEN_SIZE:
            _PROVEN.pop(next(iter(_PROVEN)))
        _PROVEN[key] = report
    return report


def _run(source: DiagramSource, context: Context) -> ProofReport:
    """Run the proof in a sandbox process; a script the sandbox had to stop is a problem."""
    now = context.clock.now()
    started = time.perf_counter()
    request = ProofRequest(probes(context.policy, now), now)
    try:
        result = context.sandbox.prove(source, request)
    except EngineError as exc:
        stopped = ProofProblem("every probe", "incident", exc.element, None, str(exc), ())
        result = ProofResult((stopped,), {}, frozenset(), 0, 0, complete=False)
    report = ProofReport(result, time.perf_counter() - started, len(request.probes))
    log.info(
        "diagram proved",
        extra={
            "passed": report.passed,
            "seconds": round(report.seconds, 2),
            "actions": result.actions,
            "reached": len(result.reached),
        },
    )
    return report


_KIND_ZH = {"incident": "步骤出错（案件会停在故障中）", "stuck": "卡住（没有任务、定时器或消息能推进它）"}


def _sentence(problem: ProofProblem, result: ProofResult, language: str) -> str:
    path = " → ".join(problem.path)
    named = result.name(problem.element_id, language) or problem.element_name or problem.element_id
    if language.startswith("zh"):
        where = f"，位于“{named}”（{problem.element_id}）" if problem.element_id else ""
        return f"探测投诉“{probe_name_zh(problem.probe)}”：{_KIND_ZH[problem.kind]}{where}：{problem.message}；路径：{path}"
    where = f" at {named} ({problem.element_id})" if problem.element_id else ""
    return f"probe '{problem.probe}': {problem.kind}{where}: {problem.message}; path: {path}"


def _problem(problem: ProofProblem, result: ProofResult, language: str) -> dict:
    return {
        "probe": problem.probe,
        "kind": problem.kind,
        "element_id": problem.element_id,
        "element_name": result.name(problem.element_id, language) or problem.element_name,
        "message": problem.message,
        "path": list(problem.path),
    }
