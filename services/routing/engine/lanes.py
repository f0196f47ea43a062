"""Lanes and candidate groups named as people name the queues: a designer drawing in bpmn.io or
Camunda Modeler names a lane 楼层主管 (or Floor supervisor), which is the queue floor_supervisor.

Routing reads a lane's name, or a user task's candidate group, as the queue its tasks wait in, and
only the queue's code is one; a role's name in the mall's vocabulary (the names the console shows
on the lanes) is rewritten to its code before the diagram is checked and kept, so the version, its
tasks and its events all speak of floor_supervisor. Everything else in the file stays as it was.
"""

from __future__ import annotations

import functools
import re

from services.common import i18n

# A lane's name attribute, or a candidateGroups attribute: the only places a queue is named.
_LANE = re.compile(r'(<(?:\w+:)?lane\b[^>]*?\bname=")([^"]*)(")')
_GROUPS = re.compile(r'(\bcamunda:candidateGroups=")([^"]*)(")')


@functools.cache
def _codes(queues: frozenset[str]) -> dict[str, str]:
    """Each queue's name in every language of the vocabulary (楼层主管, Floor supervisor) -> its code."""
    found = {}
    for queue in queues:
        for language in i18n.LANGUAGES:
            name = i18n.term("role", queue, language)
            if name and name != queue:
                found[name.strip().casefold()] = queue
    return found


def queue_codes(bpmn: str, queues: frozenset[str]) -> str:
    """The diagram with every lane and candidate group named by a queue's name named by its code."""
    codes = _codes(queues)

    def code(name: str) -> str:
        return codes.get(name.strip().casefold(), name)

    def lane(match: re.Match) -> str:
        return match.group(1) + code(match.group(2)) + match.group(3)

    def groups(match: re.Match) -> str:
        written = match.group(2).split(",")
        if all(code(group) == group for group in written):
            return match.group(0)  # as written, spaces and all: the same file hashes the same
        return match.group(1) + ",".join(code(group) for group in written) + match.group(3)

    return _GROUPS.sub(groups, _LANE.sub(lane, bpmn))
