// bpmnlint rules for the modeler, each matching a check routing makes on deploy
// (services/routing/engine/parser.py and problems.py), so a designer sees the problem on the element
// while drawing instead of after "校验并部署". The server stays the judge: these only warn early.
// What the rules need to know (queues, events, parties) comes from the page, which takes it from the
// same Python lists routing checks against.
import { is } from "bpmnlint-utils";

let facts = { queues: [], events: [], parties: [], language: "zh-CN" };

const WORDS = {
  dangling: ["顺序流没有连接两端的元素：请连到图中的元素上，或删除它", "the sequence flow does not join two elements: connect it or delete it"],
  lane: ["泳道名称须为角色代码之一：{list}", "name the lane after a role: {list}"],
  noQueue: ["人工任务不属于任何队列：放进以角色命名的泳道，或设置候选组", "the user task belongs to no queue: put it in a role's lane or set its candidate group"],
  badGroup: ["候选组 {value} 不是商场的任务队列：请用 {list}", "candidate group {value} is not a queue: use {list}"],
  timer: ["定时器 {value} 是{kind}，此处不支持：请写 ISO 8601 时长，如 PT24H", "the timer {value} is {kind}, not supported here: write a duration such as PT24H"],
  cycle: ["循环定时器不支持：请用回环流程上的时长定时器", "cycle timers are not supported: use a duration timer on a loop"],
  python: ["{what}不被接受（{detail}）：不得 import、不得用以 _ 开头的名称及 eval、open、getattr 等", "the {what} is refused ({detail}): no imports, no _names, no eval, open, getattr"],
  event: ["属性 event 的值 {value} 不是已知事件", "the property event {value} is not a known event"],
  notifyTo: ["notify_to 的值 {value} 无法送达：请用顾客、商户或队列", "notify_to {value} cannot be reached: use customer, merchant or a queue"],
  notifyDepartment: ["属性 notify_department 指定了字段 {field}，但该元素并不通知部门经理：请把 notify_to 设为 department_manager，或删除 notify_department", "notify_department names the field {field}, but the element notifies no department manager: set notify_to to department_manager or remove notify_department"],
  noDefault: ["排他网关没有默认流：条件都不成立时案件会停住（试运行验证可查）", "the exclusive gateway has no default flow: a case stops when no condition holds"],
  noZhName: ["缺少中文名称（属性 name.zh-CN）", "no Chinese name (property name.zh-CN)"],
  noCondition: ["从网关“{gateway}”出发的这条流既无条件也不是默认流：请写条件，或把它设为默认流", "this flow leaves the gateway {gateway} with no condition and is not its default: write a condition or make it the default"],
  slip: ["{what}写法有误（{detail}）：请检查引号、括号和标点，标点须用英文半角", "the {what} is not Python ({detail}): check its quotes, brackets and punctuation"],
  serviceTask: ["服务任务不被支持（流程不调用外部系统）：请改为脚本任务或人工任务", "service tasks are not supported (routing calls nothing outside): use a script or a user task"],
};
const SLIPS = {
  wide: ["中文标点 {char}", "Chinese punctuation {char}"],
  quote: ["引号没有闭合", "a quote left open"],
  bracket: ["括号不配对", "brackets that do not pair"],
};
const KINDS = { cron: ["cron 表达式", "a cron expression"], juel: ["JUEL/FEEL 表达式", "a JUEL/FEEL expression"] };
const REFUSED = [[/(^|\s)(import|from\s+\S+\s+import)\s/, "import"], [/\b__\w*|\b_\w+/, "_"],
  [/\b(eval|exec|open|getattr|setattr|delattr|globals|locals|vars|compile|__import__)\s*\(/, "call"]];

// A slip in diagram Python that a designer makes typing (the dry run and the deploy say the same with
// Python's own reading): a quote left open, brackets that do not pair, a Chinese comma or quote.
const PAIRS = { ")": "(", "]": "[", "}": "{" };
function slip(code) {
  const open = [];
  for (let i = 0; i < code.length; i += 1) {
    const char = code[i];
    if (char === "#") { while (i < code.length && code[i] !== "\n") i += 1; continue; }
    if (char === '"' || char === "'") {
      const triple = code.startsWith(char.repeat(3), i);
      const end = triple ? code.indexOf(char.repeat(3), i + 3) : closing(code, i);
      if (end < 0) return ["quote"];
      i = triple ? end + 2 : end;
      continue;
    }
    if ("，。；：“”‘’（）【】".includes(char)) return ["wide", char];
    if ("([{".includes(char)) open.push(char);
    else if (PAIRS[char] && open.pop() !== PAIRS[char]) return ["bracket"];
  }
  return open.length ? ["bracket"] : null;
}

// Where the one-line string opened at `start` closes (-1: at no quote before its line ends).
function closing(code, start) {
  for (let i = start + 1; i < code.length && code[i] !== "\n"; i += 1) {
    if (code[i] === "\\") i += 1;
    else if (code[i] === code[start]) return i;
  }
  return -1;
}

function say(key, values) {
  const text = WORDS[key][facts.language === "zh-CN" ? 0 : 1];
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values && values[name] !== undefined ? values[name] : ""));
}

function properties(node) {
  const found = {};
  ((node.extensionElements && node.extensionElements.values) || []).forEach((extension) => {
    if (is(extension, "camunda:Properties")) (extension.values || []).forEach((p) => { found[p.name] = p.value; });
  });
  return found;
}

function rule(check) { return () => ({ check }); }

const rules = {
  "flow-ends": rule((node, reporter) => {
    if (is(node, "bpmn:SequenceFlow") && (!node.sourceRef || !node.targetRef)) reporter.report(node.id, say("dangling"));
  }),
  "lane-is-queue": rule((node, reporter) => {
    if (is(node, "bpmn:Lane") && !facts.queues.includes((node.name || "").trim())) {
      reporter.report(node.id, say("lane", { list: facts.queues.join("、") }));
    }
  }),
  "task-has-queue": rule((node, reporter) => {
    if (!is(node, "bpmn:UserTask")) return;
    const groups = (node.get("camunda:candidateGroups") || "").split(",").map((g) => g.trim()).filter(Boolean);
    const bad = groups.filter((group) => !facts.queues.includes(group));
    if (bad.length) return reporter.report(node.id, say("badGroup", { value: bad.join(","), list: facts.queues.join("、") }));
    if (!groups.length && !(node.lanes || []).length && !laneOf(node)) reporter.report(node.id, say("noQueue"));
  }),
  "timer-supported": rule((node, reporter) => {
    if (!is(node, "bpmn:TimerEventDefinition")) return;
    const owner = node.$parent;
    if (node.timeCycle) return reporter.report(owner.id, say("cycle"));
    const text = ((node.timeDuration || node.timeDate || {}).body || "").trim();
    const kind = /\$\{|#\{/.test(text) ? "juel" : /^([\d*?/,-]+\s+){4,6}[\d*?/,A-Z-]+$/i.test(text) ? "cron" : null;
    if (/^R\d*\//.test(text)) return reporter.report(owner.id, say("cycle"));
    if (kind) reporter.report(owner.id, say("timer", { value: text, kind: KINDS[kind][facts.language === "zh-CN" ? 0 : 1] }));
  }),
  "python-safe": rule((node, reporter) => {
    const checks = [];
    if (is(node, "bpmn:ScriptTask")) checks.push([node.script || "", facts.language === "zh-CN" ? "脚本" : "script", node.id]);
    if (is(node, "bpmn:SequenceFlow") && node.conditionExpression) {
      checks.push([node.conditionExpression.body || "", facts.language === "zh-CN" ? "条件" : "condition", node.id]);
    }
    checks.forEach(([code, what, id]) => {
      const typed = slip(code);
      if (typed) {
        const text = SLIPS[typed[0]][facts.language === "zh-CN" ? 0 : 1].replace("{char}", typed[1] || "");
        return reporter.report(id, say("slip", { what, detail: text }));
      }
      const found = REFUSED.find(([pattern]) => pattern.test(code));
      if (found) reporter.report(id, say("python", { what, detail: found[1] }));
    });
  }),
  "flow-has-condition": rule((node, reporter) => {
    if (!is(node, "bpmn:ExclusiveGateway") && !is(node, "bpmn:InclusiveGateway")) return;
    const outgoing = node.outgoing || [];
    if (outgoing.length < 2) return;
    outgoing.forEach((flow) => {
      const written = ((flow.conditionExpression && flow.conditionExpression.body) || "").trim();
      if (flow !== node.default && !written) reporter.report(flow.id, say("noCondition", { gateway: node.name || node.id }));
    });
  }),
  "no-service-task": rule((node, reporter) => {
    if (is(node, "bpmn:ServiceTask")) reporter.report(node.id, say("serviceTask"));
  }),
  "known-event": rule((node, reporter) => {
    if (!is(node, "bpmn:FlowElement")) return;
    const found = properties(node);
    if (found.event && !facts.events.includes(found.event)) reporter.report(node.id, say("event", { value: found.event }));
    if (found.notify && !facts.parties.includes(found.notify_to)) reporter.report(node.id, say("notifyTo", { value: found.notify_to || "" }));
    if (found.notify_department !== undefined && (!found.notify || found.notify_to !== "department_manager")) {
      reporter.report(node.id, say("notifyDepartment", { field: found.notify_department }));
    }
  }),
  "gateway-default": rule((node, reporter) => {
    if (is(node, "bpmn:ExclusiveGateway") && (node.outgoing || []).length > 1 && !node.default) reporter.report(node.id, say("noDefault"));
  }),
  "chinese-name": rule((node, reporter) => {
    if ((is(node, "bpmn:UserTask") || is(node, "bpmn:ManualTask")) && !properties(node)["name.zh-CN"]) reporter.report(node.id, say("noZhName"));
  }),
};

function laneOf(node) {
  let process = node.$parent;
  while (process && !is(process, "bpmn:Process")) process = process.$parent;
  const sets = (process && process.laneSets) || [];
  return sets.some((set) => (set.lanes || []).some((lane) => (lane.flowNodeRef || []).includes(node)));
}

const LEVELS = { "flow-ends": "error", "lane-is-queue": "error", "task-has-queue": "error", "timer-supported": "error",
  "python-safe": "error", "known-event": "error", "gateway-default": "warn", "chinese-name": "warn",
  "flow-has-condition": "error", "no-service-task": "error" };

// What bpmnlint-loader would generate for a .bpmnlintrc: rules named `mall/<rule>` resolve to the
// functions above (bpmnlint looks a plugin's rule up as package `bpmnlint-plugin-mall`).
export function lintConfig(pageFacts) {
  facts = pageFacts;
  const config = { rules: {} };
  Object.keys(LEVELS).forEach((name) => { config.rules["mall/" + name] = LEVELS[name]; });
  const resolver = {
    resolveRule(pkg, name) {
      if (pkg !== "bpmnlint-plugin-mall" || !rules[name]) throw new Error("unknown rule " + pkg + "/" + name);
      return rules[name];
    },
    resolveConfig(pkg, name) { throw new Error("unknown config " + pkg + "/" + name); },
  };
  return { config, resolver };
}
