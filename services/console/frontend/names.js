// A diagram as its reader names things: each element by its name in the reader's language (the
// diagram's camunda property `name.<language>`, else the name as drawn), each lane by the console's
// name of its role (lanes are named after role codes). A flow's label the diagram gives no name for
// in the reader's language is told by the console's words for it (a role, a form's option) or, in
// Chinese, left out rather than shown in English.
export function localName(businessObject, language) {
  const values = (businessObject.extensionElements && businessObject.extensionElements.values) || [];
  for (const extension of values) {
    if (extension.$type !== "camunda:Properties") continue;
    const found = (extension.values || []).find((p) => p.name === "name." + language);
    if (found && found.value) return found.value;
  }
  return null;
}

function flowName(node, language, words) {
  const drawn = (node.name || "").trim();
  if (!drawn) return drawn;
  const code = drawn.replace(/\s*\(default\)$/, "").toLowerCase().replace(/[\s-]+/g, "_");
  if (words[code]) return words[code];
  return language === "zh-CN" && /[A-Za-z]/.test(drawn) ? "" : drawn;
}

// The name the reader sees for one element (its `name` as drawn when the reader has no other).
export function shownName(node, language, roles, words) {
  if (!node || !node.$instanceOf) return node && node.name;
  const named = node.$instanceOf("bpmn:FlowElement") || node.$instanceOf("bpmn:Participant");
  const local = named ? localName(node, language) : null;
  if (node.$type === "bpmn:Lane" && roles[(node.name || "").trim()]) return roles[node.name.trim()];
  if (local) return local;
  if (node.$type === "bpmn:SequenceFlow") return flowName(node, language, Object.assign({}, words, roles));
  return node.name;
}

export function renameAll(definitions, language, roles, words) {
  const visit = (node) => {
    if (!node || typeof node !== "object") return;
    const name = node.$instanceOf ? shownName(node, language, roles || {}, words || {}) : node.name;
    if (name !== node.name) node.name = name;
    ["rootElements", "participants", "flowElements", "laneSets", "lanes", "childLaneSet"].forEach((key) => {
      const children = node[key];
      if (Array.isArray(children)) children.forEach(visit);
      else if (children) visit(children);
    });
  };
  visit(definitions);
}
