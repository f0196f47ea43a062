"""The fields a user task asks for, from a Camunda form or a spiff-arena JSON-schema form file.

A field may be required only when another field of the form has a given value (`required_when`):
in Camunda Modeler a validation constraint named `required_when` with the config `outcome=escalate`
(several constraints: any of them), in a JSON-schema form an `if`/`then` (alone or in `allOf`) whose
`if` gives one property a `const` and whose `then` lists what it requires. A field may also be taken
only when another field has a given value (`only_when`, a constraint written the same way): a
customer's satisfaction only when the customer was reached.

A text field may offer the mall's own reference list (`choices_from`, e.g. `departments`): in
Camunda Modeler a property of the field, in a JSON-schema form the keyword `x-choices-from`. The
console then suggests the list's names while the field stays free text (a department outside the
list, an outside contractor, can still be named).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from services.routing.domain.form_checks import condition_text


@dataclass(frozen=True)
class FormField:
    """One field a user task asks for (camunda:formField, or a property of a JSON-schema form)."""

    id: str
    label: str
    # string, long, decimal (an amount in yuan and fen), boolean, enum, date: what
    # `domain.form_checks.check_form` checks
    type: str
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    default: str | None = None
    # (field, value) pairs: the field is also required when any of those fields has that value.
    required_when: tuple[tuple[str, str], ...] = ()
    # (field, value) pairs: the field is taken only when one of those fields has that value (a
    # satisfaction only when the customer was reached); given otherwise, it is refused.
    only_when: tuple[tuple[str, str], ...] = ()
    choices_from: str | None = None  # a reference list the console suggests: one of CHOICE_LISTS
    # The label and the options' names in each language the diagram gives them in (zh-CN, en):
    # a formField's camunda:property `label.zh-CN`, `option.<id>.zh-CN` …; `label`, `options` else.
    labels: dict[str, str] = field(default_factory=dict)
    option_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # language -> option id -> name
    # Camunda Modeler's validations minlength, maxlength (text) and min, max (whole numbers, or on a
    # date `today`: not before / not after the day it is completed in the mall)
    limits: dict[str, int | str] = field(default_factory=dict)
    readonly: bool = False  # shown with its default value, not filled in (Camunda's `readonly`)


REQUIRED_WHEN = "required_when"
ONLY_WHEN = "only_when"
CHOICES_FROM = "choices_from"
SCHEMA_CHOICES_FROM = "x-choices-from"  # the same in a JSON-schema form (an extension keyword)
# The mall's reference lists a text field may suggest (the console reads them from intake).
CHOICE_LISTS = ("departments", "floors", "reply_templates")


def camunda_fields(task_spec) -> tuple[FormField, ...]:
    """The task's camunda:formData; ValueError names a `required_when` constraint that cannot hold."""
    form = getattr(task_spec, "form", None)
    found = tuple(_camunda_field(item) for item in _named_fields(getattr(form, "fields", []) or []))
    return check_choice_lists(check_conditions(found))


def _camunda_field(item) -> FormField:
    """One camunda:formField; ValueError names a type or a bound nothing here can hold."""
    kind = _type(item.id, item.type)
    return FormField(
        id=item.id,
        label=item.label or item.id,
        type=kind,
        required=any(rule.name == "required" for rule in item.validation),
        options=tuple((option.id, option.name) for option in getattr(item, "options", []) or []),
        default=item.default_value,
        required_when=tuple(
            _condition(item.id, rule.name, rule.config)
            for rule in item.validation
            if rule.name == REQUIRED_WHEN
        ),
        only_when=tuple(
            _condition(item.id, rule.name, rule.config) for rule in item.validation if rule.name == ONLY_WHEN
        ),
        choices_from=_choices_from(item),
        labels=_translations(item, "label."),
        option_labels=_option_translations(item),
        limits=_limits(item.id, kind, item.validation),
        readonly=any(rule.name == "readonly" for rule in item.validation),
    )


# The field types a form fills in and routing checks (`domain.form_checks.check_form`).
FIELD_TYPES = ("string", "long", "decimal", "boolean", "enum", "date")


def _type(field_id: str, kind: str | None) -> str:
    """The field's type; ValueError names one nothing here fills in or checks (Camunda Modeler's
    custom type, a slip such as `lnog`): it would be taken as free text, unsaid."""
    kind = kind or "string"
    if kind not in FIELD_TYPES:
        raise ValueError(
            f"has field {field_id!r} of type {kind!r}, which no form here fills in;"
            " use string, long, decimal, boolean, enum or date"
        )
    return kind


# Which bounds a field's type takes (Camunda Modeler offers them all on every field).
LIMITS = {
    "string": ("minlength", "maxlength"),
    "long": ("min", "max"),
    "decimal": ("min", "max"),
    "date": ("min", "max"),
}
TODAY = "today"  # a date's only bound: a day the task is completed on, in the mall's time zone


def _limits(field_id: str, kind: str, validation) -> dict[str, int | str]:
    """The bounds of the field's validation; ValueError names one that is not a whole number (on a
    date: not `today`) or does not fit the field's type (a maxlength on a yes/no field holds nothing)."""
    found: dict[str, int | str] = {}
    for rule in validation:
        if rule.name not in ("minlength", "maxlength", "min", "max"):
            continue
        if rule.name not in LIMITS.get(kind, ()):
            raise ValueError(
                f"has field {field_id!r} of type {kind!r} with {rule.name}; minlength and maxlength bound"
                " a text (string) field, min and max a whole number (long), an amount (decimal) or a date (today)"
            )
        config = str(rule.config).strip()
        if kind == "date":
            if config != TODAY:
                raise ValueError(f"has date field {field_id!r} with {rule.name} {rule.config!r}; write today")
            found[rule.name] = TODAY
            continue
        try:
            found[rule.name] = int(config)
        except ValueError:
            raise ValueError(
                f"has field {field_id!r} with {rule.name} {rule.config!r}; write a whole number, e.g. 200"
            ) from None
    low, high = found.get("minlength", found.get("min")), found.get("maxlength", found.get("max"))
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise ValueError(f"has field {field_id!r} whose lower bound {low} is above its upper bound {high}")
    return found


def _named_fields(fields: list) -> list:
    """The form's fields, once each has an id (what its value is kept as) and a label or a label in
    some language (what staff read: without one the task form showed the id, or nothing)."""
    for item in fields:
        if not (item.id or "").strip():
            raise ValueError("has a form field without an id; give each field an id and a label")
        if not (item.label or "").strip() and not _translations(item, "label."):
            raise ValueError(
                f"has field {item.id!r} without a label: staff would read its id; give it a label"
            )
    return fields


def _translations(item, prefix: str) -> dict[str, str]:
    """{language: text} from the field's camunda:properties named `<prefix><language>`."""
    return {
        prop.id[len(prefix) :]: prop.value
        for prop in item.properties
        if (prop.id or "").startswith(prefix) and prop.value
    }


def _option_translations(item) -> dict[str, dict[str, str]]:
    """{language: {option id: name}} from the field's camunda:properties named `option.<id>.<language>`."""
    found: dict[str, dict[str, str]] = {}
    for key, value in _translations(item, "option.").items():
        option, _, language = key.rpartition(".")
        if option and language:
            found.setdefault(language, {})[option] = value
    return found


def _choices_from(item) -> str | None:
    value = item.get_property(CHOICES_FROM)  # a camunda:property of the field
    return value.strip() if isinstance(value, str) else None


def _condition(field_id: str, kind: str, config: str | None) -> tuple[str, str]:
    other, equals, value = (config or "").partition("=")
    if not equals or not other.strip() or not value.strip():
        raise ValueError(
            f"has field {field_id!r} with {kind} {config!r}; write it as <field>=<value>,"
            " e.g. outcome=escalate"
        )
    return other.strip(), value.strip()


def check_conditions(found: tuple[FormField, ...]) -> tuple[FormField, ...]:
    """The fields, once every `required_when` and `only_when` names another field of the form and a
    value it can take."""
    by_id = {item.id: item for item in found}
    for item in found:
        conditions = [("required", *pair) for pair in item.required_when]
        conditions += [("taken only", *pair) for pair in item.only_when]
        for how, other, value in conditions:
            target = by_id.get(other)
            if target is None or other == item.id:
                raise ValueError(
                    f"has field {item.id!r} {how} when {other!r} is {value!r}, "
                    f"but the form has no other field {other!r}"
                )
            allowed = _values(target)
            if allowed is not None and value not in allowed:
                raise ValueError(
                    f"has field {item.id!r} {how} when {other!r} is {value!r}, "
                    f"but {other!r} takes only {', '.join(allowed)}"
                )
    return found


def check_choice_lists(found: tuple[FormField, ...]) -> tuple[FormField, ...]:
    """The fields, once every `choices_from` names a known list on a text field."""
    for item in found:
        if item.choices_from is None:
            continue
        if item.choices_from not in CHOICE_LISTS:
            raise ValueError(
                f"has field {item.id!r} with choices from {item.choices_from!r}; "
                f"the lists a field can offer are {', '.join(CHOICE_LISTS)}"
            )
        if item.type != "string":
            raise ValueError(
                f"has field {item.id!r} of type {item.type!r} with choices from "
                f"{item.choices_from!r}; only a text (string) field can offer a list"
            )
    return found


def _values(item: FormField) -> list[str] | None:
    if item.type == "enum":
        return [option[0] for option in item.options]
    if item.type == "boolean":
        return ["true", "false"]
    return None


def json_schema_fields(text: bytes) -> tuple[FormField, ...]:
    """The fields of a flat react-jsonschema-form schema, as spiff-arena writes them; ValueError
    names what cannot be a field here (nested objects, arrays, numbers with decimals)."""
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"is not JSON: {exc}") from exc
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise ValueError('must be a JSON schema of "type": "object"')
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    if not isinstance(properties, dict):
        raise ValueError('"properties" must be an object')
    conditions = _schema_conditions(schema)
    return check_choice_lists(
        check_conditions(
            tuple(
                replace(
                    _field(name, spec, name in required),
                    required_when=tuple(conditions.get(name, ())),
                    choices_from=spec.get(SCHEMA_CHOICES_FROM),
                )
                for name, spec in properties.items()
            )
        )
    )


def _schema_conditions(schema: dict) -> dict[str, list[tuple[str, str]]]:
    """`if: {properties: {outcome: {const: "escalate"}}}, then: {required: [...]}`, alone or in allOf."""
    rules = [schema] if "if" in schema else []
    rules += [rule for rule in schema.get("allOf") or [] if isinstance(rule, dict) and "if" in rule]
    conditions: dict[str, list[tuple[str, str]]] = {}
    for rule in rules:
        tested = (rule.get("if") or {}).get("properties") or {}
        then = rule.get("then") or {}
        if not isinstance(tested, dict) or len(tested) != 1 or not isinstance(then, dict):
            raise ValueError(
                'has an "if" that is not one property with a "const" and a "then" with "required"'
            )
        [(other, test)] = tested.items()
        if not isinstance(test, dict) or "const" not in test:
            raise ValueError(f'has an "if" on {other!r} without a "const"')
        for name in then.get("required") or []:
            conditions.setdefault(str(name), []).append((str(other), condition_text(test["const"])))
    return conditions


SCHEMA_LIMITS = {"minLength": "minlength", "maxLength": "maxlength", "minimum": "min", "maximum": "max"}


def _field(name: str, spec, required: bool) -> FormField:
    if not isinstance(spec, dict):
        raise ValueError(f"property {name!r} must be an object")
    found = _plain_field(name, spec, required)
    bounds = [_Bound(SCHEMA_LIMITS[key], spec[key]) for key in SCHEMA_LIMITS if key in spec]
    return replace(found, limits=_limits(name, found.type, bounds), readonly=spec.get("readOnly") is True)


@dataclass(frozen=True)
class _Bound:
    """A JSON-schema bound as a Camunda validation constraint reads."""

    name: str
    config: object


def _plain_field(name: str, spec: dict, required: bool) -> FormField:
    label = str(spec.get("title") or name)
    default = None if spec.get("default") is None else str(spec.get("default"))
    kind = spec.get("type", "string")
    if "oneOf" in spec or "enum" in spec:
        options = [
            (str(o.get("const")), str(o.get("title") or o.get("const")))
            for o in spec.get("oneOf") or []
            if isinstance(o, dict)
        ] or [(str(value), str(value)) for value in spec.get("enum") or []]
        return FormField(name, label, "enum", required, tuple(options), default)
    if kind == "string":
        return FormField(
            name, label, "date" if spec.get("format") == "date" else "string", required, (), default
        )
    if kind in ("integer", "number", "boolean"):
        kinds = {"integer": "long", "number": "decimal", "boolean": "boolean"}
        return FormField(name, label, kinds[kind], required, (), default)
    raise ValueError(
        f"property {name!r} has type {kind!r}; a form field is a string, integer, number, boolean, "
        f"date (string, format date) or a choice (enum / oneOf)"
    )
