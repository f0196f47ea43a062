// The modeler shows each element by the name its reader reads (names.js: 处理商户投诉 for a task drawn
// "Handle merchant complaint", 楼层主管 for the lane floor_supervisor), on the canvas and in the
// properties panel's header, while the diagram keeps every name as drawn: the names are swapped in
// only while an element is drawn, never written. Editing a label on the canvas edits the name the
// reader reads: an element's Chinese name (name.zh-CN) when it has one, else the name as drawn; the
// Chinese and English names are also the panel's group "名称（中文 / 英文）".
import BaseRenderer from "diagram-js/lib/draw/BaseRenderer";
import CommandInterceptor from "diagram-js/lib/command/CommandInterceptor";
import { getLabel as drawnLabel } from "bpmn-js/lib/util/LabelUtil";
import { shownName } from "./names.js";
import { readName, writeName } from "./names-group.js";

let reader = null;

function shown(element) {
  const node = element && element.businessObject;
  return reader && node ? shownName(node, reader.language, reader.roles, reader.words) : undefined;
}

// The properties panel's header names the selected element through this (build.mjs points the
// panel's import of bpmn-js's LabelUtil here).
export function getLabel(element) {
  const name = shown(element);
  return name === undefined || name === element.businessObject.name ? drawnLabel(element) : name;
}
export { setLabel, getExternalLabelMid, isLabelExternal, hasExternalLabel, isLabel, DEFAULT_LABEL_SIZE } from "bpmn-js/lib/util/LabelUtil";

// The label the designer typed on the canvas goes to the name they were shown: an element with a
// Chinese name keeps its drawn name and gets the typed text as its Chinese name (typed into the
// drawn name, it changed nothing the canvas or the staff show).
class ReaderNameEditing extends CommandInterceptor {
  constructor(eventBus, bpmnFactory, commandStack) {
    super(eventBus);
    this.preExecute("element.updateLabel", (event) => {
      const context = event.context;
      const node = context.element && context.element.businessObject;
      if (!reader || !node || context.readerName !== undefined || !readName(node, reader.language)) return;
      context.readerName = context.newLabel;
      context.newLabel = node.name;
    });
    this.postExecuted("element.updateLabel", (event) => {
      const { element, readerName } = event.context;
      if (readerName === undefined) return;
      writeName(element, reader.language, (readerName || "").trim(), { bpmnFactory, commandStack });
      eventBus.fire("element.changed", { element });
    });
  }
}
ReaderNameEditing.$inject = ["eventBus", "bpmnFactory", "commandStack"];

class ReaderNamesRenderer extends BaseRenderer {
  constructor(eventBus, bpmnRenderer) {
    super(eventBus, 1500);
    this.bpmnRenderer = bpmnRenderer;
  }

  canRender(element) { return Boolean(reader) && this.bpmnRenderer.canRender(element); }

  drawShape(parent, element) { return this.named(element, () => this.bpmnRenderer.drawShape(parent, element)); }

  drawConnection(parent, element) { return this.named(element, () => this.bpmnRenderer.drawConnection(parent, element)); }

  getShapePath(shape) { return this.bpmnRenderer.getShapePath(shape); }

  getConnectionPath(connection) { return this.bpmnRenderer.getConnectionPath(connection); }

  named(element, draw) {
    const node = element.businessObject;
    const name = shown(element);
    if (!node || name === undefined || name === node.name) return draw();
    const drawn = node.name;
    node.name = name;
    try { return draw(); } finally { node.name = drawn; }
  }
}
ReaderNamesRenderer.$inject = ["eventBus", "bpmnRenderer"];

export function readerNamesModule(language, roles, words) {
  reader = language === "en" ? null : { language, roles: roles || {}, words: words || {} };
  return {
    __init__: ["readerNamesRenderer", "readerNameEditing"],
    readerNamesRenderer: ["type", ReaderNamesRenderer],
    readerNameEditing: ["type", ReaderNameEditing],
  };
}
