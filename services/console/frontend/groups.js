// The properties panel shows what routing reads and nothing else (bpmn/README.md "What the engine
// supports"): names and ids, documentation, the names in two languages, lanes' candidate groups,
// conditions, timers, messages, scripts, forms, decision references and extension properties.
// Listeners, connectors, async flags, inputs/outputs and the like are left out: routing would ignore them.
import { namesGroup } from "./names-group.js";

const KEPT = new Set(["general", "documentation", "timer", "message", "CamundaPlatform__Condition",
  "CamundaPlatform__Script", "CamundaPlatform__UserAssignment", "CamundaPlatform__FormData",
  "CamundaPlatform__ExtensionProperties", "CamundaPlatform__Implementation"]);
const ENTRIES = { CamundaPlatform__UserAssignment: new Set(["candidateGroups"]) };

export default function SupportedGroups(propertiesPanel, injector, pageLanguage) {
  this.getGroups = (element) => (groups) => {
    const kept = groups.filter((group) => KEPT.has(group.id)).map((group) => {
      const entries = ENTRIES[group.id];
      if (group.id === "CamundaPlatform__FormData" && group.items) return withFieldLabels(group, element, injector, pageLanguage);
      return entries && group.entries ? { ...group, entries: group.entries.filter((entry) => entries.has(entry.id)) } : group;
    });
    const names = namesGroup(element, injector);
    if (names) kept.splice(Math.min(1, kept.length), 0, names);
    return kept;
  };
  propertiesPanel.registerProvider(1, this);  // last: after bpmn-js's and Camunda's own providers
}
SupportedGroups.$inject = ["propertiesPanel", "injector", "pageLanguage"];

// The form's fields listed as staff will read them (客户满意度（satisfied）), not by id alone, and a
// field just added as 新字段 rather than the panel's "<empty>".
function withFieldLabels(group, element, injector, language) {
  const translate = injector.get("translate");
  const formData = ((element.businessObject.extensionElements || {}).values || []).find((value) => value.$type === "camunda:FormData");
  const fields = (formData && formData.fields) || [];
  const items = group.items.map((item) => {
    const field = fields[Number(item.id.split("-formField-").pop())];
    if (!field) return item;
    const own = ((field.properties && field.properties.values) || []).find((p) => p.id === "label." + language);
    const label = (own && own.value) || field.label || "";
    const id = field.id || "";
    const shown = label && id ? label + "（" + id + "）" : label || id || translate("New field");
    return { ...item, label: shown };
  });
  return { ...group, items };
}
