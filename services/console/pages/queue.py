"""My queue (tasks of my roles and scopes, overdue first) and the task page with its form."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common.bus.events import COMPLAINT_POSTPONED
from services.common.errors import Conflict, InvalidInput, ServiceError
from services.common.identity.model import PROCESS_ROLES
from services.common.scrubber import customer_masks, scrub
from services.console.auth.guard import api, console, login_required
from services.console.i18n import label, named, translate
from services.console.pages import html_errors
from services.console.pages.attachments import attachments_of, chosen_files, send_files

blueprint = html_errors(Blueprint("queue", __name__))
QUEUE_LIMIT = 200
ABOUT_BATCH = 50  # the ids intake's complaint list takes at once
# The reference lists a task form may suggest (routing refuses any other on deploy); never a path
# taken from a form as it came.
CHOICE_LISTS = ("departments", "floors", "reply_templates")
# A task routing has closed: done, or no longer waited for (escalated by its timer, merged away).
CLOSED_STATES = ("completed", "cancelled")
# A text field the diagram bounds at this many characters or fewer (a name, a code) is one line on
# the task form; a longer or unbounded one (what was done, what the customer said) is a box.
ONE_LINE_MAX = 50


def overdue_first(tasks: list[dict], now: datetime) -> list[dict]:
    """Overdue tasks first (the longest overdue on top), then by due time, then those without one."""

    def key(task: dict):
        due = datetime.fromisoformat(task["due_at"]) if task.get("due_at") else None
        if due is None:
            return (2, 0.0, task["created_at"])
        return (0 if due <= now else 1, due.timestamp(), task["created_at"])

    return sorted(tasks, key=key)


@blueprint.get("/queue")
@login_required(*PROCESS_ROLES)
def queue():
    """Open tasks of my queues; a floor supervisor sees its floors only, a manager its department."""
    mine = request.args.get("mine") == "1"
    page = api().get("/routing/tasks", limit=QUEUE_LIMIT, mine="true" if mine else None)
    tasks = overdue_first(page["items"], console().clock.now())
    return render_template(
        "queue.html",
        tasks=tasks,
        about=what_cases_are_about(api(), [task["case_id"] for task in tasks]),
        mine=mine,
        now=console().clock.now().isoformat(),
    )


def what_cases_are_about(client, case_ids: list[str]) -> dict[str, dict]:
    """case id -> its complaint's shop and description, so a card on a phone tells its complaint
    from the next one. Asked of intake in batches of the ids its list takes at once; a batch that
    cannot be read leaves its cards with the number and task only: the queue must still open."""
    wanted = sorted(set(case_ids))  # a case's id is its complaint's
    about: dict[str, dict] = {}
    for start in range(0, len(wanted), ABOUT_BATCH):
        batch = wanted[start : start + ABOUT_BATCH]
        try:
            found = client.get("/intake/complaints", id=batch, limit=len(batch))["items"]
        except ServiceError:
            continue
        about.update({item["id"]: _about(item) for item in found})
    return about


def _about(complaint: dict) -> dict:
    """The shop, and the description masked whoever reads it: the queue, open on a phone on the
    shop floor and listing many customers at once, names none of them; the task page shows the
    description to its handlers as written."""
    merchant = complaint.get("merchant") or {}
    known = customer_masks(complaint.get("customer"))
    return {
        "merchant_code": merchant.get("code"),
        "shop_name": merchant.get("shop_name"),
        "description": scrub(complaint.get("description") or "", known),
    }


@blueprint.get("/tasks/<uuid:task_id>")
@login_required(*PROCESS_ROLES)
def task(task_id, errors: dict | None = None, values: dict | None = None, status: int = 200):
    """The task, its form, and the complaint it is about; a closed task says so, with no form."""
    client = api()
    found = client.get(f"/routing/tasks/{task_id}")
    if found["state"] in CLOSED_STATES:
        return closed_task(client, found)
    complaint = client.get(f"/intake/complaints/{found['case_id']}")
    timeline = case_timeline(client, found["case_id"])
    page = render_template(
        "task.html",
        task=found,
        complaint=complaint,
        earlier=earlier_decisions(timeline),
        postponements=postponements(timeline),
        attachments=attachments_of(complaint),
        errors=errors or {},
        values=values or {},
        choices=choice_lists(client, found["form"], complaint.get("category")),
        one_line_max=ONE_LINE_MAX,
        now=console().clock.now().isoformat(),
    )
    return page, status


def closed_task(client, found: dict):
    """A task opened again after it was done (a notice's link, the back button): who closed it,
    when, what it decided, and the way to its case; nothing to claim or submit."""
    done = [
        entry
        for entry in earlier_decisions(case_timeline(client, found["case_id"]))
        if entry.get("task_id") == found["id"]
    ]
    return render_template("task_closed.html", task=found, decided=done)


def _closed_answer(task_id):
    """A claim, release or submission of a task that was closed meanwhile: back to the task's page,
    which tells who closed it; a refresh then asks nothing again."""
    flash(translate("task.already_closed"))
    return redirect(url_for("queue.task", task_id=task_id))


def _act(client, task_id, action: str, body: dict | None = None):
    """POST the task's `action` (claim, unclaim, complete); None when done, the closed task's page
    when a colleague closed it meanwhile (any other conflict is raised)."""
    try:
        client.post(f"/routing/tasks/{task_id}/{action}", body)
    except Conflict:
        if client.get(f"/routing/tasks/{task_id}")["state"] in CLOSED_STATES:
            return _closed_answer(task_id)
        raise
    return None


def case_timeline(client, case_id: str) -> list[dict]:
    """The case's timeline; one that cannot be read leaves the task page as it was (empty)."""
    try:
        return client.get(f"/routing/cases/{case_id}/timeline")
    except ServiceError:
        return []


def postponements(timeline: list[dict]) -> dict[str, int]:
    """How often the case's reply date was postponed (each `complaint.postponed` its diagram announced),
    how often the mall's policy allows it, and how many are left: the desk tells the customer so."""
    made = sum(1 for entry in timeline if entry["kind"] == COMPLAINT_POSTPONED)
    allowed = console().settings.policy.max_postponements
    return {"made": made, "allowed": allowed, "left": max(allowed - made, 0)}


def earlier_decisions(timeline: list[dict]) -> list[dict]:
    """What the case's earlier tasks decided, as its timeline keeps them (the floor's resolution the
    manager signs off, the department asked and what for, the solution the desk replies with):
    the task is done knowing them."""
    return [
        entry
        for entry in timeline
        if entry["kind"] == "task_completed" and (entry.get("detail") or {}).get("data")
    ]


def choice_lists(client, form: list[dict], category: str | None = None) -> dict[str, list[dict]]:
    """The reference lists the form's text fields suggest (`choices_from`), from intake: the canned
    replies of the complaint's category for `reply_templates`. A list that cannot be read leaves its
    field plain text: the suggestion is a help, the task must still open."""
    lists: dict[str, list[dict]] = {}
    for name in sorted({field.get("choices_from") for field in form} & set(CHOICE_LISTS)):
        try:
            if name == "reply_templates":
                lists[name] = client.get("/intake/reply-templates", category=category)
            else:
                lists[name] = client.get(f"/intake/reference/{name}")
        except ServiceError:
            lists[name] = []
    return lists


@blueprint.post("/tasks/<uuid:task_id>/claim")
@login_required(*PROCESS_ROLES)
def claim(task_id):
    return _act(api(), task_id, "claim") or redirect(url_for("queue.task", task_id=task_id))


@blueprint.post("/tasks/<uuid:task_id>/unclaim")
@login_required(*PROCESS_ROLES)
def unclaim(task_id):
    return _act(api(), task_id, "unclaim") or redirect(url_for("queue.queue"))


def form_data(fields: list[dict], form) -> dict:
    """The task form's values as the API wants them: typed, and empty fields left out."""
    data: dict = {}
    for field in fields:
        raw = form.get(f"f_{field['id']}", "").strip()
        if raw == "":
            continue
        if field["type"] == "boolean":
            data[field["id"]] = raw == "true"
        elif field["type"] == "long":
            try:
                data[field["id"]] = int(raw)
            except ValueError as exc:
                raise InvalidInput("not a whole number", {f"data.{field['id']}": ["a whole number"]}) from exc
        else:
            data[field["id"]] = raw
    if form.get("action") == "escalate":
        data["outcome"] = "escalate"
    return data


@blueprint.post("/tasks/<uuid:task_id>/complete")
@login_required(*PROCESS_ROLES)
def complete(task_id):
    """Complete the task with its form (escalate sets the outcome); back to the queue when done."""
    client = api()
    found = client.get(f"/routing/tasks/{task_id}")
    if found["state"] in CLOSED_STATES:
        return _closed_answer(task_id)
    values = request.form.to_dict()
    try:
        data = form_data(found["form"], request.form)
    except InvalidInput as refused:
        return task(task_id, errors=_task_errors(refused), values=values, status=400)
    refused_files = send_files(client, found["case_id"], str(task_id))
    if refused_files:  # the task stays open, its form as typed, the reason naming the file
        return task(task_id, errors={"attachments": [refused_files]}, values=values, status=400)
    try:
        closed = _act(client, task_id, "complete", {"data": data})
    except InvalidInput as refused:
        errors = _task_errors(refused)
        if chosen_files():  # kept already: choosing them again would attach them twice
            errors["attachments"] = [translate("attachments.kept_already")]
        return task(task_id, errors=errors, values=values, status=400)
    if closed:
        return closed
    where = _where_now(client, found["case_id"])
    if where:  # asking another department, escalating: the handler reads where the case went
        flash(translate("task.moved_to", where=where))
    return redirect(url_for("queue.queue", done=found["number"]))


def _where_now(client, case_id: str) -> str:
    """The case's open tasks after a completion, as people name them: 跟踪协助部门的处理结果（服务台）;
    empty when none is open (the case waits for a timer, or closed) or the case cannot be read."""
    try:
        case = client.get(f"/routing/cases/{case_id}")
    except ServiceError:
        return ""
    tasks = [
        f"{named(task.get('titles'), 'element', task['element_id'], task['title'])}"
        f"{translate('task.in_queue', queue=label('role', task['queue']))}"
        for task in case.get("open_tasks") or ()
    ]
    return translate("common.list_separator").join(tasks)


def _task_errors(refused: InvalidInput) -> dict[str, list[str]]:
    fields = {name.removeprefix("data."): messages for name, messages in refused.fields.items()}
    return fields or {"_schema": [str(refused)]}
