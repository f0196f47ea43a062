"""What is wrong with a diagram, in the designer's words: every problem at once, each with the
element it is at, what is wrong and what to do, in Chinese or English.

A check adds a `Problem` (a code from `WORDS`, the element, the values its sentence needs) instead of
stopping at the first; `render` writes one in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True)
class Problem:
    code: str  # a key of WORDS
    element: str | None = None
    file: str | None = None
    name: str | None = None  # the element's name in the diagram
    params: dict[str, Any] = field(default_factory=dict)


# code -> language -> (what is wrong, what to do); {names} come from the problem's params.
WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "not_xml": {
        "en": ("{file} is not well-formed XML ({detail})", "save it again from the modeler"),
        "zh-CN": ("{file} 不是格式正确的 XML（{detail}）", "请在建模器中重新保存后再部署"),
    },
    "dangling_flow": {
        "en": (
            "the sequence flow's {end} is {target!r}, which is not in the diagram",
            "connect the flow to an element, or delete it",
        ),
        "zh-CN": ("顺序流的{end_zh} {target!r} 不在图中", "把这条顺序流连到图中的元素上，或删除它"),
    },
    "no_executable_process": {
        "en": (
            "the diagram has no executable process",
            "in Camunda Modeler select the process (or its pool) and tick 'Executable'",
        ),
        "zh-CN": (
            "图中没有可执行的流程",
            "在 Camunda Modeler 中选中流程（或其泳池），勾选“Executable（可执行）”",
        ),
    },
    "several_executable_processes": {
        "en": (
            "the diagram has {count} executable processes: {found}",
            "keep one executable (untick 'Executable' on the others) or deploy them as separate files",
        ),
        "zh-CN": (
            "图中有 {count} 个可执行流程：{found}",
            "只保留一个可执行流程（取消其余流程的“可执行”），或分文件部署",
        ),
    },
    "engine_cannot_read": {
        "en": (
            "the engine cannot read this element: {detail}",
            "check the element's settings in the modeler",
        ),
        "zh-CN": ("流程引擎无法读取该元素：{detail}", "请在建模器中检查该元素的设置"),
    },
    "lane_not_queue": {
        "en": ("the lane {lane!r} is not one of the mall's queues", "name the lane after a role: {queues}"),
        "zh-CN": ("泳道 {lane!r} 不是商场的任务队列", "泳道名称须为以下角色之一：{queues}"),
    },
    "task_without_queue": {
        "en": (
            "the user task belongs to no queue (no lane and no candidate group)",
            "put it in a lane named after a role, or set its candidate group to one of: {queues}",
        ),
        "zh-CN": (
            "该人工任务不属于任何队列（没有泳道，也没有候选组）",
            "把它放进以角色命名的泳道，或把候选组设为：{queues}",
        ),
    },
    "task_queue_unknown": {
        "en": (
            "the user task goes to {queue!r}, which is not one of the mall's queues",
            "set its lane or candidate group to one of: {queues}",
        ),
        "zh-CN": ("该人工任务的队列 {queue!r} 不是商场的任务队列", "把泳道或候选组设为：{queues}"),
    },
    "python_refused": {
        "en": (
            "its {what} is refused: {detail}",
            "scripts and conditions are Python with no imports, no names starting with _ and none of "
            "eval, open, getattr and the like",
        ),
        "zh-CN": (
            "其{what_zh}不被接受：{detail}",
            "脚本和条件须为 Python，且不得 import、不得使用以 _ 开头的名称及 eval、open、getattr 等",
        ),
    },
    "timer_not_supported": {
        "en": (
            "the timer {expression!r} is {kind}, which is not supported here",
            "write an ISO 8601 duration such as PT24H, a date such as 2026-12-01T09:00:00+08:00, or a "
            'Python expression giving one from the policy: "PT" + str(policy["handler_acts_within_seconds"]) + "S"'
            "",
        ),
        "zh-CN": (
            "定时器 {expression!r} 是{kind_zh}，此处不支持",
            "请写 ISO 8601 时长（如 PT24H）、日期（如 2026-12-01T09:00:00+08:00），或由策略得出时长的 Python 表达式："
            '"PT" + str(policy["handler_acts_within_seconds"]) + "S"',
        ),
    },
    "timer_kind_mismatch": {
        "en": (
            "the timer {expression!r} is a {kind}, but it is set as a {written} timer",
            "choose the timer type '{kind}' in the modeler (Camunda Modeler: Timer → Type), or write a {written}",
        ),
        "zh-CN": (
            "定时器 {expression!r} 是{kind_zh}，但类型设成了{written_zh}",
            "请在建模器中把定时器类型改为“{kind_zh}”，或写成{written_zh}",
        ),
    },
    "cycle_to_user_task": {
        "en": (
            "its repeating timer leads to the user task {task!r}, which would not reach the queues",
            "let a repeating timer only notify or run scripts and end; to give someone a task again, "
            "loop back through a duration timer",
        ),
        "zh-CN": (
            "其循环定时器通向人工任务 {task!r}，该任务不会进入任务队列",
            "循环定时器只用于提醒（通知、脚本后结束）；需要再次派任务时，请用时长定时器回环",
        ),
    },
    "event_unknown": {
        "en": ("the property event is {event!r}, which no service knows", "use one of: {events}"),
        "zh-CN": ("属性 event 的值 {event!r} 不是已知事件", "请使用：{events}"),
    },
    "notify_to_unknown": {
        "en": ("notify_to is {notify_to!r}, whom notify cannot reach", "use one of: {parties}"),
        "zh-CN": ("notify_to 的值 {notify_to!r} 无法送达", "请使用：{parties}"),
    },
    "report_event_dropped": {
        "en": (
            "no element announces {event}, which version {version} announces and the reports count: {figure}",
            "give the element where that happens the property event = {event}",
        ),
        "zh-CN": (
            "没有元素发布事件 {event}；当前生效的版本 {version} 发布它，报表据此统计：{figure_zh}",
            "请在发生该事项的元素上设置属性 event = {event}",
        ),
    },
    "form": {
        "en": ("its form is refused: {detail}", "correct the form fields in the modeler"),
        "zh-CN": ("其表单有误：{detail}", "请在建模器中修改表单字段"),
    },
    "form_file_missing": {
        "en": (
            "it names the form file {form!r}, which was not deployed with the diagram",
            "deploy the JSON-schema file with the diagram (forms), or correct the name",
        ),
        "zh-CN": ("它引用的表单文件 {form!r} 未随图一起部署", "请把该 JSON 表单文件一起部署，或改正文件名"),
    },
}

_WHAT_ZH = {"script": "脚本", "condition": "条件", "expression": "表达式", "timer": "定时器表达式",
            "DMN rule": "决策表规则"}  # fmt: skip
_END_ZH = {"sourceRef": "起点", "targetRef": "终点"}
_TIMER_ZH = {"duration": "时长", "date": "日期", "cycle": "循环"}
_KIND_ZH = {
    "a cron expression": "cron 表达式",
    "a JUEL/FEEL expression": "JUEL/FEEL 表达式",
}


def render(problem: Problem, language: str = "en") -> str:
    """One sentence: where, what is wrong, what to do."""
    words = WORDS[problem.code]["zh-CN" if language.startswith("zh") else "en"]
    params = {**problem.params, "file": problem.file, "what_zh": _WHAT_ZH.get(problem.params.get("what"), ""),
              "end_zh": _END_ZH.get(problem.params.get("end"), ""),
              "kind_zh": _KIND_ZH.get(problem.params.get("kind")) or _TIMER_ZH.get(problem.params.get("kind"), ""),
              "written_zh": _TIMER_ZH.get(problem.params.get("written"), "")}  # fmt: skip
    what, fix = (text.format(**params) for text in words)
    return (
        f"{_where(problem, language)}{what}; {fix}"
        if language.startswith("en")
        else (f"{_where(problem, language)}{what}；{fix}")
    )


def _where(problem: Problem, language: str) -> str:
    if not problem.element:
        return ""
    named = f"“{problem.name}” ({problem.element})" if problem.name else problem.element
    if language.startswith("zh"):
        named = f"“{problem.name}”（{problem.element}）" if problem.name else problem.element
        return f"元素 {named}："
    return f"element {named}: "


def language_of(accept_language: str | None) -> str:
    """zh-CN when the request prefers Chinese, else English."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"
