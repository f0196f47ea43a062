"""Routing's HTTP schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from services.common.web.schemas import Pattern, StrictBoolean, StrictSchema, not_blank

# A deployed file's name is a plain file name: it is read back by name (a path segment of the API
# and of the console's links), so no folder, no way up, no drive, no control character.
FILE_NAME = Pattern(
    r"^(?![.\s])[^\x00-\x1f\x7f/\\:?#%]{1,200}$",
    error="a plain file name: no / \\ : ? # %, control characters, or leading dot or space",
)


REASON = fields.String(
    required=True,
    validate=not_blank("say why: a reason is required", 500),
    metadata={"description": "why (kept on the case's timeline)"},
)


class DeployIn(StrictSchema):
    bpmn = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2_000_000),
        metadata={"description": "the BPMN XML"},
    )
    bpmn_name = fields.String(load_default="diagram.bpmn", validate=FILE_NAME)
    dmn = fields.Dict(
        keys=fields.String(validate=FILE_NAME),
        values=fields.String(validate=validate.Length(max=1_000_000)),
        load_default=dict,
        metadata={"description": "DMN files it references: file name -> XML"},
    )
    note = fields.String(allow_none=True, validate=validate.Length(max=500))
    forms = fields.Dict(
        keys=fields.String(validate=FILE_NAME),
        values=fields.String(validate=validate.Length(max=1_000_000)),
        load_default=dict,
        metadata={
            "description": "JSON-schema form files its user tasks name "
            "(spiff-arena's formJsonSchemaFilename): file name -> JSON"
        },
    )


class VersionOut(Schema):
    id = fields.String()
    process_key = fields.String()
    version = fields.Integer()
    source_hash = fields.String()
    deployed_by = fields.String()
    deployed_at = fields.AwareDateTime()
    note = fields.String(allow_none=True)
    dmn_files = fields.List(fields.String())
    form_files = fields.List(fields.String())
    called_processes = fields.List(
        fields.String(),
        metadata={
            "description": "processes deployed on their own that its call activities call, "
            "as they were when it was deployed"
        },
    )
    active = fields.Boolean(metadata={"description": "new cases of its process start this version"})
    handles_complaints = fields.Boolean(
        metadata={
            "description": "its process is the complaint process (COMPLAINT_PROCESS): its active version "
            "starts a case for each complaint; any other process starts none"
        }
    )


class ProofProblemOut(Schema):
    probe = fields.String(metadata={"description": "the probe complaint whose case met the problem"})
    kind = fields.String(
        metadata={"description": "incident (a step raised) or stuck (nothing can move the case)"}
    )
    element_id = fields.String(allow_none=True)
    element_name = fields.String(allow_none=True)
    message = fields.String()
    path = fields.List(fields.String(), metadata={"description": "what was done, from the start"})
    sentence = fields.String(
        metadata={"description": "the problem in one sentence, in the request's language (Accept-Language)"}
    )


class UnreachedOut(Schema):
    element_id = fields.String()
    name = fields.String(allow_none=True)


class ProofOut(Schema):
    passed = fields.Boolean()
    problems = fields.List(fields.Nested(ProofProblemOut))
    reached = fields.Integer(metadata={"description": "flow elements some probe's case reached"})
    elements = fields.Integer(metadata={"description": "flow elements of the diagram"})
    coverage = fields.Float()
    unreached = fields.List(fields.Nested(UnreachedOut), metadata={"description": "warnings, not problems"})
    probes = fields.Integer()
    walks = fields.Integer()
    actions = fields.Integer(metadata={"description": "tasks completed, timers fired, messages delivered"})
    complete = fields.Boolean(metadata={"description": "every action was tried within the time budget"})
    seconds = fields.Float()


class DeployOut(VersionOut):
    message = fields.String(metadata={"description": "what the deploy did, for the designer"})
    proof = fields.Nested(
        ProofOut,
        allow_none=True,
        metadata={"description": "a new version of the complaint process: how it was proved"},
    )


class ActivateIn(StrictSchema):
    reason = REASON


class ActivationOut(Schema):
    version = fields.Integer()
    activated_by = fields.String()
    activated_at = fields.AwareDateTime()
    reason = fields.String()


class FormFieldOut(Schema):
    id = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    options = fields.List(fields.List(fields.String()))
    default = fields.String(allow_none=True)
    required_when = fields.List(
        fields.List(fields.String()),
        metadata={
            "description": "[field, value] pairs: also required when one of those fields has that value"
        },
    )
    only_when = fields.List(
        fields.List(fields.String()),
        metadata={
            "description": "[field, value] pairs: taken only when one of those fields has that value, "
            "refused otherwise"
        },
    )
    labels = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "the label in each language the diagram gives (zh-CN, en)"},
    )
    option_labels = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
        metadata={"description": "language -> option id -> the option's name, as the diagram gives them"},
    )
    choices_from = fields.String(
        allow_none=True,
        metadata={
            "description": "a text field's suggestions: the mall's `departments` or `floors` (intake's "
            "reference data), any text still accepted; or `reply_templates`, the canned replies of the "
            "complaint's category, the title chosen being the field's value"
        },
    )
    limits = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata={
            "description": "bounds: minlength, maxlength (text), min, max (whole numbers; on a date "
            "`today`: not before or not after the day it is completed)"
        },
    )
    readonly = fields.Boolean(metadata={"description": "shown with its default, not filled in"})


class StoredForm(fields.List):
    """A task's form as routing stored it (each field `asdict(FormField)`, read back from JSON),
    written out with FormFieldOut's keys in its order but not walked value by value: a task's form is
    about 150 values, and marshmallow converting each one again was a third of a case read's CPU.
    Documented as a list of FormFieldOut."""

    keys = tuple(FormFieldOut().fields)

    def __init__(self, **kwargs: Any):
        super().__init__(fields.Nested(FormFieldOut), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> list[dict] | None:
        if value is None:
            return None
        return [{key: item[key] for key in self.keys if key in item} for item in value]


def _in_each_language(what: str) -> fields.Dict:
    """An element's name (a task's title, a timer's name) in each language its diagram gives."""
    return fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": f"{what} in each language the diagram names the element in "
            '(name.zh-CN, name.en; "": its name as drawn)'
        },
    )


class TaskOut(Schema):
    id = fields.String()
    case_id = fields.String()
    queue = fields.String()
    element_id = fields.String()
    title = fields.String()
    titles = _in_each_language("the title")
    number = fields.String()
    state = fields.String()
    floor = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    closed_by = fields.String(allow_none=True)
    form = StoredForm()
    instructions = fields.String(allow_none=True, metadata={"description": "what the diagram says to do"})


class CaseTaskOut(TaskOut):
    workable = fields.Boolean(
        metadata={"description": "whether the reader works this task's queue where it is"}
    )


class TaskPage(Schema):
    items = fields.List(fields.Nested(TaskOut))
    next_cursor = fields.String(allow_none=True)


class TaskListArgs(StrictSchema):
    queue = fields.String(validate=validate.Length(max=40))
    mine = fields.Boolean(load_default=False, metadata={"description": "only tasks I have claimed"})
    number = fields.String(validate=validate.Length(max=40))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class CompleteIn(StrictSchema):
    data = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        load_default=dict,
        metadata={"description": "the form's fields"},
    )


class MessageIn(StrictSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the BPMN message name, e.g. merchant_answered"},
    )
    data = fields.Dict(keys=fields.String(validate=validate.Length(max=100)), load_default=dict)
    idempotency_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    ttl_seconds = fields.Integer(
        strict=True,
        load_default=7 * 24 * 3600,
        validate=validate.Range(min=1, max=90 * 24 * 3600),
        metadata={"description": "how long to keep it if the case does not wait yet"},
    )


class CompleteCommand(CompleteIn):
    """A `task.complete` command's payload: the HTTP body with the task its path names."""

    task_id = fields.UUID(required=True)


class MessageCommand(MessageIn):
    """A `case.message` command: the HTTP body, the case its path names (the envelope's
    `complaint_id`), and no key needed: the command's id is one."""

    case_id = fields.UUID(required=True, data_key="complaint_id")
    idempotency_key = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class MessageOut(Schema):
    status = fields.String(metadata={"description": "delivered, buffered or duplicate"})


class RetryIn(StrictSchema):
    data = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        load_default=dict,
        metadata={"description": "workflow data to correct before the step runs again"},
    )


class ReassignIn(StrictSchema):
    assignee = fields.String(required=True, validate=validate.Length(min=1, max=100))


class TimelineEntry(Schema):
    at = fields.AwareDateTime()
    actor = fields.String()
    role = fields.String(allow_none=True)
    kind = fields.String()
    element_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    detail = fields.Dict()
    element_names = fields.Dict(
        metadata={
            "description": "language -> the element's name in the case's diagram "
            '("": as drawn, in whatever language the designer wrote it)'
        }
    )
    field_labels = fields.Dict(metadata={"description": "a user task's form: field id -> language -> label"})
    option_labels = fields.Dict(metadata={"description": "a user task's form: option id -> language -> name"})


class IncidentOut(Schema):
    id = fields.String()
    at = fields.AwareDateTime()
    step = fields.String()
    error = fields.String()
    resolved_at = fields.AwareDateTime(allow_none=True)


class CaseOut(Schema):
    id = fields.String()
    number = fields.String()
    status = fields.String()
    process_key = fields.String()
    version = fields.Integer()
    current_elements = fields.List(fields.String(), metadata={"description": "diagram elements it is at"})
    visited = fields.List(fields.String(), metadata={"description": "diagram elements it has passed"})
    next_due_at = fields.AwareDateTime(allow_none=True)
    open_tasks = fields.List(fields.Nested(CaseTaskOut))
    incidents = fields.List(fields.Nested(IncidentOut))


class TimerOut(Schema):
    id = fields.String(metadata={"description": "the timer's id, stable while it waits"})
    element_id = fields.String()
    name = fields.String(allow_none=True, metadata={"description": "its name as drawn"})
    names = _in_each_language("its name")
    due_at = fields.AwareDateTime(allow_none=True)
    attached_to = fields.String(
        allow_none=True, metadata={"description": "the task a boundary timer sits on"}
    )
    interrupting = fields.Boolean(metadata={"description": "it ends the task it sits on when it fires"})


class TimerFireIn(StrictSchema):
    reason = REASON


class TimerMoveIn(StrictSchema):
    due_at = fields.DateTime(
        required=True,
        metadata={
            "description": "when it should fall due (ISO 8601; without an offset, the mall's local time); "
            "a time not later than now fires it at once"
        },
    )
    reason = REASON


class TimerMovedOut(Schema):
    timer = fields.Nested(TimerOut, metadata={"description": "the timer as it was before"})
    fired = fields.Boolean()
    case = fields.Nested(CaseOut)


class IncidentListed(Schema):
    id = fields.String()
    at = fields.AwareDateTime()
    step = fields.String(
        metadata={"description": "start, timer, complete <element>, message <name>, retry …"}
    )
    error = fields.String()
    element_id = fields.String(allow_none=True, metadata={"description": "where the step failed"})
    held_by = fields.String(
        allow_none=True,
        metadata={
            "description": "who submitted the task completion the retry applies (null: no completion kept)"
        },
    )
    case_id = fields.String()
    number = fields.String()
    process_key = fields.String()
    version = fields.Integer()


class MigrateIn(StrictSchema):
    to_version = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    reason = REASON
    dry_run = StrictBoolean(
        load_default=False, metadata={"description": "say what would happen, move nothing"}
    )


class MissingElement(Schema):
    element_id = fields.String()
    waiting = fields.Boolean(metadata={"description": "the case waits there (else it passed it)"})


class MigrationOut(Schema):
    case_id = fields.String()
    number = fields.String()
    from_version = fields.Integer()
    to_version = fields.Integer()
    moved = fields.Boolean()
    missing = fields.List(
        fields.Nested(MissingElement),
        metadata={"description": "elements the case holds that the target version lacks"},
    )


class VersionMigrationOut(Schema):
    from_version = fields.Integer()
    to_version = fields.Integer()
    dry_run = fields.Boolean()
    cases = fields.Integer(metadata={"description": "unfinished cases on the version"})
    movable = fields.Integer(metadata={"description": "cases that can move (moved, unless a dry run)"})
    moved = fields.Integer()
    refused = fields.List(fields.Nested(MigrationOut))
    to_retry = fields.List(
        fields.Nested(MigrationOut),
        metadata={
            "description": "cases stopped by an incident among those moved: each still needs POST /cases/{id}/retry"
        },
    )


class HeldTimelineEntry(Schema):
    """A step of the case as the customer's copy shows it: the staff by role, not by name."""

    at = fields.AwareDateTime()
    role = fields.String(allow_none=True)
    kind = fields.String()
    element_id = fields.String(allow_none=True)
    detail = fields.Dict()


class HeldMessage(Schema):
    name = fields.String()
    payload = fields.Dict()
    received_at = fields.AwareDateTime()


class HeldCase(Schema):
    complaint_id = fields.String()
    number = fields.String()
    status = fields.String()
    started_at = fields.AwareDateTime()
    customer = fields.List(
        fields.Dict(), metadata={"description": "the customer as the workflow data keeps it"}
    )
    timeline = fields.List(fields.Nested(HeldTimelineEntry))
    messages = fields.List(fields.Nested(HeldMessage))


class PersonalDataOut(Schema):
    cases = fields.List(fields.Nested(HeldCase))
