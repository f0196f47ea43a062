"""How deep, how long and how large JSON from outside may be: the limits, checked in one place.

Python's json module descends one C call per level of nesting and raises RecursionError a little
under a thousand levels down, a failure no error handler expects: a 500 for a 4 KB body of `[`, an
audit that dies on a dead letter. Every JSON document that comes from outside — an HTTP body of any
service (read through `loads` by services/common/web/bodies.py), a command from a department's
own system (its payload through `check`, kombu having decoded it), a dead letter the audit reads —
is held to the same limits, and a document over one is bad input (400) naming where, never a crash.

No request of the API needs more than a few levels, a few dozen items, or 5,000 characters in one
text field; the limits are far above that and far below what hurts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from services.common.errors import InvalidInput


@dataclass(frozen=True)
class Limits:
    depth: int = 32  # levels of objects and arrays, the outermost being 1
    items: int = 1000  # members of one object or items of one array
    chars: int = 20_000  # characters of one string, a member's name too


DEFAULT = Limits()


class TooComplex(InvalidInput):
    """A JSON document nested too deep, or with an array, object or string too long (a 400)."""


# JSON may write half of a UTF-16 pair alone (`"\\ud800"`): Python decodes it into a string that no
# UTF-8 can hold, so it failed later, at the database or the broker, as a 500 (and after a receipt
# number was taken). Such a string is bad input, named where it is.
_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(text: str | bytes, limits: Limits = DEFAULT) -> Any:
    """json.loads, then `check`; bad JSON raises json.JSONDecodeError as json.loads does."""
    try:
        value = json.loads(text)
    except RecursionError:  # the parser gave up hundreds of levels past ours
        raise _too_deep(limits) from None
    check(value, limits, surrogates=_may_hold_surrogates(text))
    return value


def _may_hold_surrogates(text: str | bytes) -> bool:
    """Whether the text could decode to an unpaired surrogate: an escape of one, one as it is (a str,
    or bytes json decodes with "surrogatepass"), or bytes in UTF-16/32. Most documents have none of
    these, and their strings need not be searched."""
    if isinstance(text, str):
        return "\\u" in text or _SURROGATE.search(text) is not None
    return b"\\u" in text or b"\xed" in text or b"\x00" in text[:4]


def check(value: Any, limits: Limits = DEFAULT, surrogates: bool = True) -> None:
    """Raise TooComplex naming the first place where `value` (decoded JSON) goes over a limit, or
    InvalidInput where a string holds an unpaired surrogate (looked for unless `surrogates` is False:
    the document's text had no escape that makes one).

    A loop with its own stack, not recursion: the value may be as deep as the parser allowed. Strings
    are measured where they are met, so only containers cost a path: 200 KB of short strings take
    ~6 ms, 130 KB of 27,000 one-item arrays (the worst a 256 KB body holds) ~40 ms on one core.
    """
    if isinstance(value, str):
        if len(value) > limits.chars:
            raise _too_long((), f"longer than {limits.chars} characters")
        if surrogates and _SURROGATE.search(value):
            raise _unpaired(())
    pending: list[tuple[Any, tuple[str, ...], int]] = (
        [(value, (), 1)] if isinstance(value, dict | list) else []
    )
    while pending:
        node, path, depth = pending.pop()
        if depth > limits.depth:
            raise _too_deep(limits)
        if len(node) > limits.items:
            raise _too_long(
                path, f"more than {limits.items} {'members' if isinstance(node, dict) else 'items'}"
            )
        inner = []
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(key, str) and len(key) > limits.chars:
                raise _too_long(path, f"a member name longer than {limits.chars} characters")
            if surrogates and isinstance(key, str) and _SURROGATE.search(key):
                raise _unpaired(path)
            if isinstance(child, str):
                if len(child) > limits.chars:
                    raise _too_long((*path, str(key)), f"longer than {limits.chars} characters")
                if surrogates and _SURROGATE.search(child):
                    raise _unpaired((*path, str(key)))
            elif isinstance(child, dict | list):
                inner.append((child, (*path, str(key)), depth + 1))
        pending.extend(reversed(inner))  # depth first, the first member first


def _too_deep(limits: Limits) -> TooComplex:
    """Named on the document as a whole: past the parser's own limit there is no path to name."""
    problem = f"nested more than {limits.depth} levels deep (objects and arrays)"
    return TooComplex(f"the JSON is {problem}", {"_schema": [problem]})


def _too_long(path: tuple[str, ...], why: str) -> TooComplex:
    where = ".".join(path)
    return TooComplex(
        f"the JSON is too large{f' at {where}' if where else ''}: {why}", {where or "_schema": [why]}
    )


def _unpaired(path: tuple[str, ...]) -> InvalidInput:
    where = ".".join(path)
    return InvalidInput(
        f"a text holds half of a UTF-16 surrogate pair, which is no character{f' at {where}' if where else ''}",
        {where or "_schema": ["half of a UTF-16 surrogate pair (\\ud800-\\udfff), which is no character"]},
    )
