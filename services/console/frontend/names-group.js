// A group "名称（中文 / 英文）" in the properties panel: an element's Chinese and English names, kept
// as the camunda properties routing reads (name.zh-CN, name.en; bpmn/README.md "Names in two languages").
import { TextFieldEntry, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { h } from "@bpmn-io/properties-panel/preact";

const LANGUAGES = [["zh-CN", "Chinese name"], ["en", "English name"]];

function propertiesOf(businessObject) {
  const values = (businessObject.extensionElements && businessObject.extensionElements.values) || [];
  return values.find((extension) => extension.$type === "camunda:Properties");
}

export function readName(businessObject, language) {
  const properties = propertiesOf(businessObject);
  const found = properties && (properties.values || []).find((p) => p.name === "name." + language);
  return found ? found.value : "";
}

export function writeName(element, language, value, services) {
  const { bpmnFactory, commandStack } = services;
  const businessObject = element.businessObject;
  const commands = [];
  let extensions = businessObject.extensionElements;
  if (!extensions) {
    extensions = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: businessObject, properties: { extensionElements: extensions } } });
  }
  let properties = propertiesOf(businessObject);
  if (!properties) {
    properties = bpmnFactory.create("camunda:Properties", { values: [] });
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: extensions, properties: { values: [...extensions.get("values"), properties] } } });
  }
  const key = "name." + language;
  const existing = (properties.values || []).find((p) => p.name === key);
  if (existing && value) {
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: existing, properties: { value } } });
  } else if (existing) {
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: properties, properties: { values: properties.values.filter((p) => p !== existing) } } });
  } else if (value) {
    const property = bpmnFactory.create("camunda:Property", { name: key, value });
    commands.push({ cmd: "element.updateModdleProperties", context: { element, moddleElement: properties, properties: { values: [...(properties.values || []), property] } } });
  }
  if (commands.length) commandStack.execute("properties-panel.multi-command-executor", commands);
}

function NameEntry(props) {
  const { element, id, language, label } = props;
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const services = { bpmnFactory: useService("bpmnFactory"), commandStack: useService("commandStack") };
  return h(TextFieldEntry, {
    element, id, label: translate(label), debounce,
    getValue: () => readName(element.businessObject, language),
    setValue: (value) => writeName(element, language, (value || "").trim(), services),
  });
}

export function namesGroup(element, injector) {
  const bo = element.businessObject;
  if (!bo || !bo.$instanceOf("bpmn:FlowElement") || bo.$instanceOf("bpmn:SequenceFlow")) return null;
  const translate = injector.get("translate");
  return {
    id: "names", label: translate("Names in two languages"),
    entries: LANGUAGES.map(([language, label]) => ({
      id: "name-" + language, component: NameEntry, element, language, label, isEdited: isTextFieldEntryEdited,
    })),
  };
}
