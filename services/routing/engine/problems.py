"""What is wrong with a diagram, in the designer's words: every problem at once, each with the
element it is at, what is wrong and what to do, in Chinese or English.

A check adds a `Problem` (a code from `WORDS`, the element, the values its sentence needs) instead of
stopping at the first; `render` writes one in the reader's language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.common import i18n

LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True)
class Problem:
    code: str  # a key of WORDS
    element: str | None = None
    file: str | None = None
    name: str | None = None  # the element's name in the diagram
    params: dict[str, Any] = field(default_factory=dict)
    kind: str | None = None  # the element's BPMN type (userTask …), shown beside a generated id
    names: dict[str, str] = field(default_factory=dict)  # its names by language (name.zh-CN …)


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
    "process_not_executable": {
        "en": (
            "the process is not executable, and the diagram has no executable process",
            "in Camunda Modeler select the process that handles complaints (or its pool) and tick "
            "'Executable'; leave the others unticked",
        ),
        "zh-CN": (
            "该流程不是可执行流程，图中也没有其他可执行流程",
            "在 Camunda Modeler 中选中处理投诉的流程（或其泳池），勾选“Executable（可执行）”；其余流程不要勾选",
        ),
    },
    "several_main_processes": {
        "en": (
            "it is one of {count} executable processes that no other process calls: {found}",
            "keep one executable (untick 'Executable' on the others), call the others from it with call "
            "activities, or deploy them as separate files",
        ),
        "zh-CN": (
            "它是 {count} 个互不调用的可执行流程之一：{found}",
            "只保留一个可执行流程（取消其余流程的“可执行”），用调用活动调用其余流程，或分文件部署",
        ),
    },
    "data_store": {
        "en": (
            "a data store is not available here",
            "delete the data store; keep what it holds in task data",
        ),
        "zh-CN": ("此处不支持数据存储", "请删除该数据存储；需要保存的内容放在任务数据中"),
    },
    "service_task": {
        "en": (
            "it calls a service (Java class, expression, connector or external worker) that routing does not provide",
            "make it a script task (Python) or a user task; tell other systems with the properties "
            "event and notify",
        ),
        "zh-CN": (
            "它调用的服务（Java 类、表达式、连接器或外部任务）本系统不提供",
            "请改为脚本任务（Python）或人工任务；需要通知其他系统时，用属性 event 和 notify",
        ),
    },
    "form_linked": {
        "en": (
            "its form is a separate file ({form!r}), which routing does not read: staff would see none of its fields",
            "draw the form's fields on the task (Forms → Form fields: id, label, type, validations) instead",
        ),
        "zh-CN": (
            "其表单是单独的文件（{form!r}），本系统不读取：员工将看不到其中任何字段",
            "请改为在该任务上设置表单字段（表单 → 表单字段：ID、标签、类型、校验）",
        ),
    },
    "listener": {
        "en": (
            "it has a Camunda listener (Java, expression or script run as it starts or ends), which routing does not run",
            "delete the listener; do its work in a script task (Python) on the flow, or tell other systems with "
            "the properties event and notify",
        ),
        "zh-CN": (
            "它带有 Camunda 监听器（在开始或结束时执行的 Java、表达式或脚本），本系统不执行",
            "请删除监听器；需要做的事改用流程中的脚本任务（Python），或用属性 event 和 notify 通知其他系统",
        ),
    },
    "decision_missing": {
        "en": (
            "the business rule task names no decision",
            "set its decision (Camunda Modeler: Implementation → DMN, Decision reference) to a decision "
            "of a DMN file deployed with the diagram",
        ),
        "zh-CN": (
            "该业务规则任务没有指定决策",
            "请设置其决策（Camunda Modeler：Implementation → DMN，Decision reference），并把该 DMN 文件一起部署",
        ),
    },
    "decision_not_deployed": {
        "en": (
            "it names the decision {decision!r}, which no DMN file deployed with the diagram holds",
            "deploy the DMN file with the diagram (dmn), or correct the decision reference",
        ),
        "zh-CN": (
            "它引用的决策 {decision!r} 不在随图部署的 DMN 文件中",
            "请把该 DMN 文件一起部署，或改正决策引用",
        ),
    },
    "script_language": {
        "en": (
            "its script is written in {language!r}, not Python",
            "rewrite the script in Python (script format python)",
        ),
        "zh-CN": ("其脚本语言是 {language!r}，不是 Python", "请用 Python 重写脚本（脚本格式填 python）"),
    },
    "script_missing": {
        "en": (
            "the script task has no script (an external resource is not read)",
            "write the Python script inline in the task",
        ),
        "zh-CN": ("该脚本任务没有脚本（不读取外部资源）", "请把 Python 脚本直接写在任务中"),
    },
    "juel": {
        "en": (
            "its {what} {expression!r} is JUEL or FEEL, which this engine does not run",
            "write it in Python on the task data, e.g. outcome == \"resolved\" instead of ${{outcome == 'resolved'}}",
        ),
        "zh-CN": (
            "其{what_zh} {expression!r} 是 JUEL 或 FEEL 表达式，本引擎不执行",
            "请改写为基于任务数据的 Python，例如用 outcome == \"resolved\" 代替 ${{outcome == 'resolved'}}",
        ),
    },
    "flow_without_condition": {
        "en": (
            "it leaves the gateway {gateway!r} with no condition and is not its default flow",
            "give the flow a condition, or make it the gateway's default flow",
        ),
        "zh-CN": (
            "它从网关 {gateway!r} 流出，既没有条件，也不是默认流",
            "请给这条顺序流设置条件，或把它设为网关的默认流",
        ),
    },
    "condition_value_unknown": {
        "en": (
            "the condition of its flow to {target!r} compares {field!r} with {value!r}, which no form offers"
            " for {field!r}: the flow is never taken",
            "compare {field!r} with one of its options: {options}",
        ),
        "zh-CN": (
            "它通往 {target!r} 的顺序流的条件把 {field!r} 与 {value!r} 比较，但没有表单为 {field!r} 提供这个选项："
            "这条顺序流永远不会走到",
            "请改为与它的选项之一比较：{options}",
        ),
    },
    "decision_queue_unknown": {
        "en": (
            "its decision's rule {rule!r} sends complaints to {value!r}, which is not one of the mall's queues",
            "make the rule's queue one of: {queues}",
        ),
        "zh-CN": (
            "其决策表的规则 {rule!r} 把投诉分派到 {value!r}，这不是商场的任务队列",
            "请把该规则的队列设为：{queues}",
        ),
    },
    "several_outgoing": {
        "en": (
            "{count} sequence flows leave it without a gateway",
            "draw a parallel gateway after it (all paths) or an exclusive gateway with conditions (one path)",
        ),
        "zh-CN": (
            "有 {count} 条顺序流不经网关直接从它流出",
            "请在其后加并行网关（全部分支）或带条件的排他网关（一条分支）",
        ),
    },
    "several_starts": {
        "en": (
            "it is one of {count} start events of the same process",
            "keep one start event per process and sub-process",
        ),
        "zh-CN": ("它是同一流程中的 {count} 个开始事件之一", "每个流程和子流程只保留一个开始事件"),
    },
    "subprocess_without_start": {
        "en": ("the sub-process has no start event", "draw a start event inside it, where its work begins"),
        "zh-CN": ("该子流程没有开始事件", "请在子流程内画一个开始事件，作为其工作的起点"),
    },
    "process_without_start": {
        "en": ("the process has no start event", "draw a start event where a case of it begins"),
        "zh-CN": ("该流程没有开始事件", "请画一个开始事件，作为案件的起点"),
    },
    "timer_empty": {
        "en": (
            "its timer has no time",
            "set the timer's type and value (Camunda Modeler: Timer → Type and Value), e.g. a duration PT24H",
        ),
        "zh-CN": (
            "其定时器没有设定时间",
            "请设置定时器类型和值（Camunda Modeler：Timer → Type、Value），例如时长 PT24H",
        ),
    },
    "multi_instance_uncounted": {
        "en": (
            "it repeats (multi-instance) but says neither how often nor over which collection",
            "set Loop cardinality (a number or Python expression) or the collection to repeat over",
        ),
        "zh-CN": (
            "它是多实例，但没有指定次数，也没有指定遍历的集合",
            "请设置循环次数（数字或 Python 表达式）或要遍历的集合",
        ),
    },
    "data_association": {
        "en": (
            "it reads or writes a data object through a data association, which is not available here",
            "delete the data association; tasks share the case's data without it",
        ),
        "zh-CN": ("它通过数据关联读写数据对象，此处不支持", "请删除该数据关联；各任务无需它即可共享案件数据"),
    },
    "called_process_missing": {
        "en": (
            "the call activity calls {called!r}, which is neither in this file nor a deployed process",
            "draw the called process as another process (pool) of the same file with that id, or deploy it "
            "first as a process of its own (its process id {called!r})",
        ),
        "zh-CN": (
            "该调用活动调用的流程 {called!r} 既不在本文件中，也未部署",
            "请把被调用的流程作为同一文件中的另一个流程（泳池）画出，ID 与之相同；或先把它作为独立流程部署（流程 ID 为 {called!r}）",
        ),
    },
    "call_without_process": {
        "en": (
            "the call activity names no process to call",
            "set its Called element to the id of a process drawn in the same file",
        ),
        "zh-CN": ("该调用活动没有指定要调用的流程", "请把其 Called element 设为同一文件中某个流程的 ID"),
    },
    "element_not_supported": {
        "en": (
            "{tag_en} is not available here",
            "draw it with exclusive, inclusive or parallel gateways and tasks",
        ),
        "zh-CN": ("此处不支持{tag_zh}", "请改用排他、包容或并行网关及任务来表达"),
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
    "python_syntax": {
        "en": (
            "its {what} is not Python: {detail}",
            "check the quotes, brackets and colons on that line; punctuation is written in English "
            '(, " : not ， “ ：)',
        ),
        "zh-CN": (
            "其{what_zh}不是可执行的 Python：{detail}",
            '请检查该行的引号、括号和冒号；标点须用英文半角（, " : 而不是 ， “ ：）',
        ),
    },
    "timer_not_iso": {
        "en": (
            "the timer {expression!r} is neither ISO 8601 text nor a Python expression",
            "write it as ISO 8601: PT12H (12 hours), PT1H30M (an hour and a half), P3D (3 days), "
            "2026-12-01T09:00:00+08:00 (a date)",
        ),
        "zh-CN": (
            "定时器 {expression!r} 既不是 ISO 8601 格式，也不是 Python 表达式",
            "请按 ISO 8601 书写：PT12H（12 小时）、PT1H30M（1 小时 30 分）、P3D（3 天）、2026-12-01T09:00:00+08:00（日期）",
        ),
    },
    "timer_zero": {
        "en": (
            "the timer {expression!r} is due the moment its task starts",
            "give it a duration longer than zero (PT24H: a day to act)",
        ),
        "zh-CN": ("定时器 {expression!r} 在任务开始的同时到期", "请设置大于零的时长（如 PT24H：一天内处理）"),
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
    "notify_department_alone": {
        "en": (
            "notify_department names the field {field!r}, but the element notifies no department manager",
            "use it beside notify_to = department_manager (and notify), or remove it",
        ),
        "zh-CN": (
            "属性 notify_department 指定了字段 {field!r}，但该元素并不通知部门经理",
            "请与 notify_to = department_manager（及 notify）一起使用，或删除该属性",
        ),
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

_WHAT_ZH = {
    "script": "脚本",
    "condition": "条件",
    "expression": "表达式",
    "timer": "定时器表达式",
    "DMN rule": "决策表规则",
}
_TAG_ZH = {"complexGateway": "复杂网关", "adHocSubProcess": "自由子流程（ad-hoc）"}
_TAG_EN = {"complexGateway": "a complex gateway", "adHocSubProcess": "an ad-hoc sub-process"}
_TYPE = {  # BPMN type -> (English, Chinese), shown beside a generated id
    "process": ("process", "流程"),
    "participant": ("pool", "泳池"),
    "lane": ("lane", "泳道"),
    "task": ("task", "任务"),
    "userTask": ("user task", "人工任务"),
    "manualTask": ("manual task", "手工任务"),
    "scriptTask": ("script task", "脚本任务"),
    "serviceTask": ("service task", "服务任务"),
    "sendTask": ("send task", "发送任务"),
    "receiveTask": ("receive task", "接收任务"),
    "businessRuleTask": ("business rule task", "业务规则任务"),
    "subProcess": ("sub-process", "子流程"),
    "callActivity": ("call activity", "调用活动"),
    "transaction": ("transaction", "事务子流程"),
    "adHocSubProcess": ("ad-hoc sub-process", "自由子流程"),
    "exclusiveGateway": ("exclusive gateway", "排他网关"),
    "inclusiveGateway": ("inclusive gateway", "包容网关"),
    "parallelGateway": ("parallel gateway", "并行网关"),
    "eventBasedGateway": ("event-based gateway", "事件网关"),
    "complexGateway": ("complex gateway", "复杂网关"),
    "startEvent": ("start event", "开始事件"),
    "endEvent": ("end event", "结束事件"),
    "intermediateCatchEvent": ("catch event", "中间捕获事件"),
    "intermediateThrowEvent": ("throw event", "中间抛出事件"),
    "boundaryEvent": ("boundary event", "边界事件"),
    "sequenceFlow": ("sequence flow", "顺序流"),
    "dataStoreReference": ("data store", "数据存储"),
    "dataObjectReference": ("data object", "数据对象"),
}
_END_ZH = {"sourceRef": "起点", "targetRef": "终点"}
_TIMER_ZH = {"duration": "时长", "date": "日期", "cycle": "循环"}
_KIND_ZH = {
    "a cron expression": "cron 表达式",
    "a JUEL/FEEL expression": "JUEL/FEEL 表达式",
}


def render(problem: Problem, language: str = "en") -> str:
    """One sentence: where, what is wrong, what to do."""
    words = WORDS[problem.code]["zh-CN" if language.startswith("zh") else "en"]
    params = {
        **problem.params,
        "file": problem.file,
        "what_zh": _WHAT_ZH.get(problem.params.get("what"), ""),
        "end_zh": _END_ZH.get(problem.params.get("end"), ""),
        "tag_zh": _TAG_ZH.get(problem.params.get("tag"), problem.params.get("tag")),
        "tag_en": _TAG_EN.get(problem.params.get("tag"), f"a {problem.params.get('tag')}"),
        "kind_zh": _KIND_ZH.get(problem.params.get("kind")) or _TIMER_ZH.get(problem.params.get("kind"), ""),
        "written_zh": _TIMER_ZH.get(problem.params.get("written"), ""),
    }
    if not language.startswith("en"):
        params.update(_in_chinese(params))
    what, fix = (text.format(**params) for text in words)
    return (
        f"{_where(problem, language)}{what}; {fix}"
        if language.startswith("en")
        else (f"{_where(problem, language)}{what}；{fix}")
    )


def _in_chinese(params: dict[str, Any]) -> dict[str, str]:
    """A refusal's words for a Chinese designer: a form's refusal as the catalogue says it, the
    queues and a choice's options by their names with the code beside (楼层主管（floor_supervisor）:
    either is taken in a diagram)."""
    found = {}
    if "detail" in params:  # one sentence of the catalogue, or several reasons each one of its own
        detail = str(params["detail"])
        whole = i18n.message(detail, "zh-CN")
        parts = detail.split("; ")
        found["detail"] = (
            whole
            if whole != detail or len(parts) == 1
            else "；".join(i18n.message(part, "zh-CN") for part in parts)
        )
    if params.get("queues"):
        found["queues"] = "、".join(
            f"{i18n.term('role', queue, 'zh-CN')}（{queue}）" for queue in str(params["queues"]).split(", ")
        )
    if params.get("options"):
        found["options"] = "、".join(
            f"{i18n.term('outcome', option, 'zh-CN')}（{option}）"
            if i18n.known("outcome", option)
            else option
            for option in str(params["options"]).split(", ")
        )
    return found


def _where(problem: Problem, language: str) -> str:
    """`element “Name” (id): `; an id the modeler generated says nothing, so its type comes first:
    `element user task “Name” (UserTask_1): ` (`元素 人工任务“名称”（UserTask_1）：`)."""
    if not problem.element:
        return ""
    chinese = language.startswith("zh")
    # The name the reader reads (a Chinese designer: the element's Chinese name), drawn on several
    # lines read as one
    name = " ".join((problem.names.get("zh-CN" if chinese else "en") or problem.name or "").split())
    kind = _TYPE.get(problem.kind or "") if is_generated(problem.element) else None
    kind_word = (kind[1] if chinese else kind[0] + " ") if kind else ""
    if chinese:
        named = (
            f"{kind_word}“{name}”（{problem.element}）"
            if name
            else f"{kind_word}（{problem.element}）"
            if kind
            else problem.element
        )
        return f"元素 {named}："
    named = (
        f"{kind_word}“{name}” ({problem.element})"
        if name
        else f"{kind_word}({problem.element})"
        if kind
        else problem.element
    )
    return f"element {named}: "


def is_generated(element: str) -> bool:
    """An id a modeler generated (`_b6542261-…`, `sid-…`, `Activity_0gg4414`, `UserTask_1`), not one a designer chose."""
    return bool(_GENERATED.match(element))


_GENERATED = re.compile(
    r"^(_|sid-|ID-|id-|oryx_)|^[A-Za-z]+_[0-9a-z]{7}$|^[A-Za-z]+_\d+$|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
)


def language_of(accept_language: str | None) -> str:
    """zh-CN when the request prefers Chinese, else English."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"
