"""People by their display names, floors and departments by the mall's names, shops by name and unit.

The services record who did what by login name and where by code; a page shows what the mall calls
them. Each page's request reads the staff list and intake's reference data at most once (kept on
`flask.g`); a name that cannot be found shows as the code, so nothing disappears.
"""

from __future__ import annotations

from flask import g

from services.common import i18n as vocabulary
from services.common.errors import ServiceError
from services.console.auth.guard import api, console, current_user
from services.console.i18n import language, translate

# Actors that are services, not people: the timeline shows them as "系统".
SERVICES = ("intake", "routing", "notify", "reporting", "console", "service")


def _people() -> dict[str, str]:
    if "people" not in g:
        user = current_user()
        found = console().users.list(user.mall_id) if user else []
        g.people = {each.username: each.display_name or each.username for each in found}
    return g.people


def person(username: str | None) -> str:
    """A login name as the person's display name (王强, not floor3); a service as 系统."""
    if not username:
        return ""
    user = current_user()
    if username in SERVICES or (user is not None and username == user.mall_id):  # the mall's own run
        return translate("people.system")
    return _people().get(username, username)


def _reference(kind: str) -> dict[str, dict]:
    key = f"reference_{kind}"
    if key not in g:
        try:
            items = api().get(f"/intake/reference/{kind}")
        except ServiceError:  # a page still shows, with codes, while intake does not answer
            items = []
        setattr(g, key, {item["code"]: item for item in items})
    return getattr(g, key)


def _name(item: dict | None, field: str, code: str) -> str:
    if not item:
        return code
    return (item.get(f"{field}_en") if language() == "en" else None) or item.get(field) or code


def floor_name(code: str | None) -> str:
    """三层 for 3F (Level 3 in English)."""
    return _name(_reference("floors").get(code), "name", code) if code else ""


def department_name(code: str | None) -> str:
    """保安部 for security."""
    return _name(_reference("departments").get(code), "name", code) if code else ""


def shop_name(code: str | None, fallback: str | None = None) -> str:
    """A shop by its name and unit (型男工坊（3F-005）, as the public form lists it), not the mall's
    internal merchant code."""
    if not code:
        return fallback or ""
    item = _reference("merchants").get(code)
    if not item:
        return fallback or code
    name = _name(item, "shop_name", fallback or code)
    brackets = " ({})" if language() == "en" else "（{}）"
    return name + brackets.format(item["unit"]) if item.get("unit") else name


def place(floor: str | None = None, department: str | None = None) -> str:
    """A task's or case's place: its floor and department by name."""
    return " ".join(part for part in (floor_name(floor), department_name(department)) if part)


def places(floors=(), departments=()) -> str:
    """Several floors and departments by name, as the language lists them (三层、保安部)."""
    found = [floor_name(code) for code in floors or ()] + [
        department_name(code) for code in departments or ()
    ]
    return translate("common.list_separator").join(found)


def field_name(dotted: str) -> str:
    """An API field as its form labels it (customer.phone → 顾客·电话)."""
    return vocabulary.field_name(dotted, language())


HELPERS = {
    "person": person,
    "floor_name": floor_name,
    "department_name": department_name,
    "shop_name": shop_name,
    "place": place,
    "places": places,
    "field_name": field_name,
}
