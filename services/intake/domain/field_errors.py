"""Field errors as the intake rules give them: field name (customer.phone) to its messages."""

from __future__ import annotations

FieldErrors = dict[str, list[str]]


def merged(*groups: FieldErrors) -> FieldErrors:
    """Field errors of several checks together, every message kept."""
    errors: FieldErrors = {}
    for group in groups:
        for name, messages in group.items():
            errors.setdefault(name, []).extend(message for message in messages if message not in errors[name])
    return errors


def any_unread(unread: frozenset[str], name: str) -> bool:
    """Whether `name` (customer.phone) or what holds it (customer) could not be read."""
    parts = name.split(".")
    return any(".".join(parts[:end]) in unread for end in range(1, len(parts) + 1))


def readable(errors: FieldErrors, unread: frozenset[str]) -> FieldErrors:
    """The errors of the fields that could be read: a refused one has the schema's message."""
    return {name: messages for name, messages in errors.items() if not any_unread(unread, name)}
