"""Steps run in sandbox processes, so a script that will not stop ends its own step, not the worker.

The line tracer of `scripts` stops a Python loop, but nothing inside a process can interrupt one
long call into C (`sum(range(10**12))`, `10**10**8`), and such a call holds the GIL: every thread
of the worker would stall with it. So each step (restore, act, dump: `step.run_step`) runs in a
child process (a new interpreter: no fork of a threaded worker) that does nothing else. In the child the kernel ends the process when a script's CPU
time passes its budget (SIGPROF, armed around every script and expression), and an address-space
limit turns a huge allocation (`"x" * 10**10`) into a MemoryError. The worker sees the child gone,
raises EngineError naming the element the child was running (the case gets an incident), and the
next step starts a fresh child. Children stay up between steps and keep each diagram they parsed,
keyed by its source hash; a request and its answer are a few KB of pickles (~0.05 ms).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from services.routing.engine.engine import Engine, EngineError
from services.routing.engine.parser import Diagram, parse_diagram
from services.routing.engine.proof import WALL_FACTOR, ProofRequest, ProofResult, prove
from services.routing.engine.scripts import CPU_GRACE_SECONDS, SCRIPT_SECONDS
from services.routing.engine.step_request import Step, StepResult, run_step

log = logging.getLogger(__name__)

MEMORY_BYTES = 1 << 30  # a child's address space; the engine needs about a tenth of it
ANSWER_SECONDS = 60.0  # a child that neither answers nor dies in this long is killed
_ELEMENT_BYTES = 256


@dataclass(frozen=True)
class DiagramSource:
    """What a child needs to parse a deployed diagram: its files and the queues lanes may name."""

    key: str  # the version's source hash: the same files parse to the same diagram
    bpmn: bytes
    dmn: dict[str, bytes]
    queues: frozenset[str]
    name: str = "diagram.bpmn"
    forms: dict[str, bytes] | None = None
    called: dict[str, bytes] | None = None  # the deployed processes its call activities call: key -> BPMN

    def parse(self) -> Diagram:
        """The parsed diagram; the same files parse once per process (see `_PARSED`)."""
        content = self.content_hash()
        with _parsed_lock:
            known = _PARSED.get(content)
        if known is not None:
            return known
        diagram = parse_diagram(
            self.bpmn, self.dmn, set(self.queues), self.name, self.forms or {}, self.called or {}
        )
        with _parsed_lock:
            _PARSED[content] = diagram
            while len(_PARSED) > _PARSED_SIZE:
                _PARSED.pop(next(iter(_PARSED)))
        return diagram

    def content_hash(self) -> str:
        """What parsing reads, hashed: `key` is empty for files not deployed yet (a dry run's)."""
        digest = hashlib.sha256()
        parts = [self.bpmn, self.name.encode(), *sorted(self.queues)]
        for files in (self.dmn, self.forms or {}, self.called or {}):
            parts.append(b"\0files")
            for name in sorted(files):
                parts += [name.encode(), files[name]]
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()


# Parsing the shipped diagram costs about 0.15 s of CPU, and a parsed diagram is only ever read: the
# deploy that checks a version, the version cache of each routing runtime in the process (tests
# build one per test) and the one-process run's start all parse the same files. Bounded, oldest out.
_PARSED: dict[str, Diagram] = {}
_PARSED_SIZE = 16
_parsed_lock = threading.Lock()


class _StepClock:
    """The time the worker gave with the step: a step happens at one moment."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


class _ElementSlot:
    """The element a child is running, in memory both processes map: readable after the child died."""

    def __init__(self, memory: mmap.mmap):
        self.memory = memory

    def write(self, element: str) -> None:
        data = element.encode()[: _ELEMENT_BYTES - 1]
        self.memory[0] = len(data)
        self.memory[1 : 1 + len(data)] = data

    def read(self) -> str | None:
        return self.memory[1 : 1 + self.memory[0]].decode(errors="replace") or None


def child_main(conn_fd: int, memory_fd: int, memory_bytes: int) -> None:
    """A child's loop (`python -c`, so no parent's main module is imported again): take a step,
    answer, until the worker closes the pipe."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the worker, which then closes the pipe
    conn, element = Connection(conn_fd), _ElementSlot(mmap.mmap(memory_fd, _ELEMENT_BYTES))
    clock = _StepClock()
    engine = Engine(clock, cpu_limit=True, on_script=lambda task: element.write(task.task_spec.bpmn_id or ""))
    diagrams: dict[str, Diagram] = {}
    while True:
        try:
            source_key, source, step, now = conn.recv()
        except (EOFError, OSError):
            return
        element.write("")
        conn.send(_answer(engine, clock, diagrams, source_key, source, step, now))


def _answer(engine, clock, diagrams, source_key, source, step, now) -> tuple:
    try:
        if source_key not in diagrams:
            diagrams[source_key] = source.parse()
        if step is None:  # only parse: see Sandbox.prepare
            return ("ok", None)
        clock.moment = now
        if isinstance(step, ProofRequest):  # a whole proof, run here as one request
            return ("ok", prove(engine, clock, diagrams[source_key], step))
        return ("ok", run_step(engine, diagrams[source_key], step))
    except EngineError as exc:
        return ("engine_error", str(exc), exc.element)
    except Exception as exc:  # a bug, not the diagram's fault: the worker raises it as it would in-process
        return ("error", "".join(traceback.format_exception(exc))[-4000:])


class _ChildGone(Exception):
    pass


class _Child:
    """One sandbox process and the pipe to it."""

    def __init__(self, memory_bytes: int):
        ours, theirs = socket.socketpair()
        memory_fd = os.memfd_create("routing-step-element")
        os.ftruncate(memory_fd, _ELEMENT_BYTES)
        code = (
            f"from services.routing.engine.sandbox import child_main; "
            f"child_main({theirs.fileno()}, {memory_fd}, {memory_bytes})"
        )
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        try:  # a new interpreter, not a fork: forking a threaded worker is unsafe
            self.process = subprocess.Popen(  # noqa: S603 (this interpreter, our own code, integers only)
                [sys.executable, "-c", code],
                pass_fds=(theirs.fileno(), memory_fd),
                stdin=subprocess.DEVNULL,
                env=environment,
            )
            self.element = _ElementSlot(mmap.mmap(memory_fd, _ELEMENT_BYTES))
        finally:
            theirs.close()
            os.close(memory_fd)
        self.conn = Connection(ours.detach())
        self.known: set[str] = set()

    def run(
        self, source: DiagramSource, step: Step | None, now: datetime | None, answer_seconds: float
    ) -> tuple:
        self.conn.send((source.key, None if source.key in self.known else source, step, now))
        try:
            if not self.conn.poll(answer_seconds):
                self.process.kill()
                raise _ChildGone(f"the step gave no answer within {answer_seconds:.0f} s")
            answer = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise _ChildGone(self._death()) from exc
        self.known.add(source.key)
        return answer

    def _death(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        if self.process.returncode == -signal.SIGPROF:
            return (
                f"a script ran past its {SCRIPT_SECONDS:g} s budget (+{CPU_GRACE_SECONDS:g} s) in one call "
                f"and was stopped"
            )
        return f"the process running the step ended (exit code {self.process.returncode})"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        try:
            self.process.wait(1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(1)


class Sandbox:
    """At most `processes` steps at once, each in a child process of its own."""

    def __init__(self, processes: int = 2, memory_bytes: int = MEMORY_BYTES):
        self.memory_bytes = memory_bytes
        self.processes = max(processes, 1)
        self._slots = threading.BoundedSemaphore(self.processes)
        self._idle: list[_Child] = []
        self._lock = threading.Lock()

    def run(
        self,
        source: DiagramSource,
        step: Step | ProofRequest,
        now: datetime,
        answer_seconds: float = ANSWER_SECONDS,
    ) -> StepResult:
        """Take the step in a child; raises EngineError when a script fails or had to be stopped."""
        with self._slots:
            child = self._take()
            try:
                answer = child.run(source, step, now, answer_seconds)
            except _ChildGone as gone:
                element = child.element.read()
                child.close()
                log.warning("sandbox process lost: %s (element %s)", gone, element)
                raise EngineError(str(gone), element) from None
            except BaseException:  # the pipe may hold half a message: never reuse this child
                child.close()
                raise
            with self._lock:
                self._idle.append(child)
        return _result(answer)

    def prove(self, source: DiagramSource, request: ProofRequest) -> ProofResult:
        """Prove a diagram in a child (see `proof`); raises EngineError if a script had to be stopped."""
        # the proof stops itself at twice its budget by the wall clock (see `proof`)
        answer = max(ANSWER_SECONDS, WALL_FACTOR * request.max_seconds + ANSWER_SECONDS / 2)
        return self.run(source, request, request.start, answer)

    def prepare(self, source: DiagramSource) -> None:
        """Start every child now and have each parse `source`, so the first steps wait for neither."""
        children = []
        try:
            for _ in range(self.processes):
                self._slots.acquire()
                children.append(self._take())
            for child in children:
                _result(child.run(source, None, None, ANSWER_SECONDS))
        finally:
            with self._lock:
                self._idle.extend(children)
            for _ in children:
                self._slots.release()

    def _take(self) -> _Child:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Child(self.memory_bytes)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.close()


def _result(answer: tuple[Any, ...]) -> StepResult:
    if answer[0] == "ok":
        return answer[1]
    if answer[0] == "engine_error":
        raise EngineError(answer[1], answer[2])
    raise RuntimeError(f"the step failed in its sandbox process:\n{answer[1]}")


_shared: dict[int, Sandbox] = {}
_shared_lock = threading.Lock()


def shared_sandbox(processes: int) -> Sandbox:
    """One sandbox per size in this process: every routing runtime of the process (tests build one
    per test) shares its children, which are started on first use."""
    with _shared_lock:
        if processes not in _shared:
            _shared[processes] = Sandbox(processes)
        return _shared[processes]
