// A user task drawn in the modeler (or a task turned into one) gets an empty form (camunda:formData):
// the properties panel shows its 表单字段 group only for a task that has one, so a new task could
// not be given a field. The form is added in the same command, so one undo takes the task away with it.
import CommandInterceptor from "diagram-js/lib/command/CommandInterceptor";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

export default class TaskForms extends CommandInterceptor {
  constructor(eventBus, bpmnFactory, modeling) {
    super(eventBus);
    this.postExecuted(["shape.create", "shape.replace"], (event) => {
      const shape = event.context.shape || event.context.newShape;
      if (!shape || !is(shape, "bpmn:UserTask")) return;
      const task = getBusinessObject(shape);
      let extensions = task.get("extensionElements");
      if (extensions && extensions.get("values").some((value) => is(value, "camunda:FormData"))) return;
      if (!extensions) {
        extensions = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
        modeling.updateProperties(shape, { extensionElements: extensions });
      }
      const form = bpmnFactory.create("camunda:FormData", { fields: [] });
      modeling.updateModdleProperties(shape, extensions, { values: [...extensions.get("values"), form] });
    });
  }
}
TaskForms.$inject = ["eventBus", "bpmnFactory", "modeling"];

export const taskFormsModule = { __init__: ["taskForms"], taskForms: ["type", TaskForms] };
