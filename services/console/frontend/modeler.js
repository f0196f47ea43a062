// The designer's modeler (/console/processes/modeler): bpmn-js with the properties panel and the
// Camunda extensions routing reads, bpmnlint on the elements as they edit, undo/redo/zoom/fit, open
// a .bpmn file and download the XML, the dry run (试运行验证) and the deploy with their problems on
// the elements and the proof's coverage.
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";
import "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css";
import "./diagram.css";
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule } from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import lintModule from "bpmn-js-bpmnlint";
import { lintConfig } from "./lint.js";
import { translateModule } from "./translate.js";
import { readerNamesModule } from "./reader-names.js";
import SupportedGroups from "./groups.js";
import SupportedReplaceMenu from "./supported-menu.js";
import { taskFormsModule } from "./task-forms.js";
import { readName } from "./names-group.js";

function supported(language) {
  return {
    __init__: ["supportedGroups", "supportedReplaceMenu"],
    pageLanguage: ["value", language],
    supportedGroups: ["type", SupportedGroups],
    supportedReplaceMenu: ["type", SupportedReplaceMenu],
  };
}

function csrf() { return document.querySelector("meta[name=csrf-token]").content; }

function fill(text, values) { return text.replace(/\{(\w+)\}/g, (_, key) => (values[key] !== undefined ? values[key] : "")); }

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
    body: JSON.stringify(body),
  });
  let answer = {};
  try { answer = await response.json(); } catch (e) { answer = {}; }
  return { ok: response.ok, status: response.status, answer };
}

class Marks {
  // The problems of the last dry run or deploy, drawn on their elements.
  constructor(modeler) { this.modeler = modeler; this.marked = []; }

  clear() {
    const canvas = this.modeler.get("canvas");
    this.marked.forEach(([id, marker]) => canvas.removeMarker(id, marker));
    this.modeler.get("overlays").remove({ type: "problem" });
    this.marked = [];
  }

  add(id, marker, text) {
    // One mark and one note per element: a second problem there is counted on the first one's note.
    const registry = this.modeler.get("elementRegistry");
    if (!id || !registry.get(id)) return false;
    const known = this.marked.find(([markedId, markedAs]) => markedId === id && markedAs === marker);
    if (known) {
      if (known[2]) known[2].dataset.more = String(Number(known[2].dataset.more || 0) + 1);
      return true;
    }
    this.modeler.get("canvas").addMarker(id, marker);
    let note = null;
    if (text) {
      note = document.createElement("div");
      note.className = "problem-note " + marker;
      note.textContent = text;
      note.dataset.element = id;
      this.modeler.get("overlays").add(id, "problem", { position: { bottom: -6, left: 0 }, html: note });
    }
    this.marked.push([id, marker, note]);
    return true;
  }
}

function centre(element) {
  // A sequence flow has no box, only its waypoints: the middle of the box around them.
  if (element.waypoints && element.waypoints.length) {
    const xs = element.waypoints.map((point) => point.x);
    const ys = element.waypoints.map((point) => point.y);
    return { x: (Math.min(...xs) + Math.max(...xs)) / 2, y: (Math.min(...ys) + Math.max(...ys)) / 2 };
  }
  return { x: element.x + (element.width || 0) / 2, y: element.y + (element.height || 0) / 2 };
}

function look(modeler, id) {
  // The first problem at 100 %, in the middle of the canvas: where the designer has to act.
  const element = id && modeler.get("elementRegistry").get(id);
  if (!element) return;
  const middle = centre(element);
  if (!Number.isFinite(middle.x) || !Number.isFinite(middle.y)) return;
  const canvas = modeler.get("canvas");
  canvas.zoom(1);
  const box = canvas.viewbox();
  canvas.viewbox({ x: middle.x - box.outer.width / 2, y: middle.y - box.outer.height / 2,
    width: box.outer.width, height: box.outer.height });
}

function showResult(box, kind, title, lines) {
  box.hidden = false;
  box.className = "result " + kind;
  box.replaceChildren();
  const heading = document.createElement("p");
  heading.className = "result-title";
  heading.textContent = title;
  box.appendChild(heading);
  if (lines && lines.length) {
    const list = document.createElement("ul");
    lines.forEach((line) => {
      const item = document.createElement("li");
      item.textContent = line.text;
      if (line.element) {
        item.dataset.element = line.element;
        item.classList.add("goto");
      }
      list.appendChild(item);
    });
    box.appendChild(list);
  }
}

function nameOf(modeler, id, language) {
  const element = modeler.get("elementRegistry").get(id);
  if (!element) return id;
  return readName(element.businessObject, language) || element.businessObject.name || id;
}

function coverageLine(proof, text) {
  return fill(text.coverage, { reached: proof.reached, elements: proof.elements, percent: Math.round(proof.coverage * 100) });
}

function proofLines(modeler, proof, config, marks) {
  const lines = (proof.problems || []).map((problem) => {
    const local = nameOf(modeler, problem.element_id, config.language);
    let text = problem.sentence || problem.message;
    if (problem.element_name && local !== problem.element_name) text = text.split("“" + problem.element_name + "”").join("“" + local + "”");
    marks.add(problem.element_id, "problem", text);
    return { text, element: problem.element_id };
  });
  const unreached = (proof.unreached || []).map((item) => {
    marks.add(item.element_id, "unreached", null);
    return nameOf(modeler, item.element_id, config.language);
  });
  if (unreached.length) lines.push({ text: fill(config.text.unreached, { name: unreached.join("、") }) });
  return lines;
}

function refusedLines(problems, marks) {
  // Each problem as the console found it in routing's sentence: {sentence, element}.
  return problems.map((problem) => {
    marks.add(problem.element, "problem", problem.sentence);
    return { text: problem.sentence, element: problem.element };
  });
}

async function load(modeler, xml, box, text) {
  try {
    const { warnings } = await modeler.importXML(xml);
    modeler.get("canvas").zoom("fit-viewport");
    if (warnings.length) showResult(box, "warning", fill(text.import_warnings, { count: warnings.length }), []);
    return true;
  } catch (error) {
    showResult(box, "error", text.import_failed, [{ text: String(error.message || error) }]);
    return false;
  }
}

function download(modeler, name) {
  return modeler.saveXML({ format: true }).then(({ xml }) => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  });
}

function wire(modeler, config, marks) {
  const box = document.getElementById("modeler-result");
  const text = config.text;
  const button = (id, action) => document.getElementById(id).addEventListener("click", action);
  const actions = modeler.get("editorActions");
  button("undo", () => actions.trigger("undo"));
  button("redo", () => actions.trigger("redo"));
  button("zoom-in", () => actions.trigger("stepZoom", { value: 1 }));
  button("zoom-out", () => actions.trigger("stepZoom", { value: -1 }));
  button("fit", () => modeler.get("canvas").zoom("fit-viewport", "auto"));
  button("download", () => download(modeler, config.fileName));
  const file = document.getElementById("open-file");
  button("open", () => file.click());
  file.addEventListener("change", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    marks.clear();
    if (await load(modeler, await chosen.text(), box, text)) showResult(box, "notice", fill(text.opened, { name: chosen.name }), []);
    config.fileName = chosen.name;
    file.value = "";
  });
  const commandStack = modeler.get("commandStack");
  const history = () => {
    document.getElementById("undo").disabled = !commandStack.canUndo();
    document.getElementById("redo").disabled = !commandStack.canRedo();
  };
  modeler.on("commandStack.changed", history);
  modeler.on("import.done", history);
  history();
  box.addEventListener("click", (event) => {
    const item = event.target.closest("li.goto");
    const element = item && modeler.get("elementRegistry").get(item.dataset.element);
    if (!element) return;
    modeler.get("canvas").scrollToElement(element, { top: 200, left: 300 });
    modeler.get("selection").select(element);
  });

  const files = async () => ({ bpmn: (await modeler.saveXML({ format: true })).xml, base_version: config.baseVersion,
    note: document.getElementById("deploy-note").value });
  // A dry run walks every path of the diagram and takes seconds to tens of seconds: the time spent
  // counts up beside what is being done, so a designer sees it is still working.
  let ticking = null;
  const busy = (on, label) => {
    ["dry-run", "deploy"].forEach((id) => { document.getElementById(id).disabled = on; });
    clearInterval(ticking);
    if (!on) return;
    const began = Date.now();
    showResult(box, "working", label, []);
    ticking = setInterval(() => {
      const seconds = Math.round((Date.now() - began) / 1000);
      box.querySelector(".result-title").textContent = label + " " + fill(text.elapsed, { seconds });
    }, 1000);
  };

  button("dry-run", async () => {
    busy(true, text.proving);
    marks.clear();
    const { ok, answer } = await post(config.urls.proof, await files());
    busy(false);
    if (!ok || answer.refused) {
      box.dataset.outcome = "refused";
      const refused = refusedLines(answer.problems || [{ sentence: answer.error || text.failed }], marks);
      look(modeler, refused.map((line) => line.element).find(Boolean));
      return showResult(box, "error", text.refused, refused);
    }
    const lines = proofLines(modeler, answer, config, marks);
    const title = (answer.passed ? text.proof_passed : fill(text.proof_failed, { count: answer.problems.length })) + " " + coverageLine(answer, text);
    showResult(box, answer.passed ? "notice" : "error", title, lines);
    if (!answer.passed) look(modeler, lines.map((line) => line.element).find(Boolean));
    box.dataset.outcome = answer.passed ? "passed" : "failed";
  });

  button("deploy", async () => {
    busy(true, text.deploying);
    marks.clear();
    const { ok, answer } = await post(config.urls.deploy, await files());
    busy(false);
    if (!ok || answer.refused) {
      box.dataset.outcome = "refused";
      const refused = refusedLines(answer.problems || [{ sentence: answer.error || text.failed }], marks);
      look(modeler, refused.map((line) => line.element).find(Boolean));
      return showResult(box, "error", text.refused, refused);
    }
    box.dataset.outcome = answer.unchanged ? "unchanged" : "deployed";
    const title = answer.unchanged
      ? fill(answer.active ? text.unchanged : text.unchanged_inactive, { version: answer.version })
      : fill(text.deployed, { version: answer.version }) + (answer.proof ? " " + coverageLine(answer.proof, text) : "");
    const lines = answer.proof ? proofLines(modeler, answer.proof, config, marks) : [];
    showResult(box, "notice", title, lines);
    if (!answer.unchanged) {
      config.baseVersion = answer.version;
      // The heading names the version being edited: from now on, the one just deployed.
      const heading = document.getElementById("modeler-base");
      if (heading) heading.textContent = fill(text.version_n, { version: answer.version });
    }
  });
}

async function start() {
  const container = document.getElementById("modeler");
  if (!container) return;
  const config = JSON.parse(document.getElementById("modeler-config").textContent);
  const modeler = new BpmnModeler({
    container,
    propertiesPanel: { parent: "#properties" },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule, lintModule, supported(config.language), taskFormsModule, translateModule(config.language),
      readerNamesModule(config.language, config.roles, config.words)],
    moddleExtensions: { camunda: camundaModdle },
    linting: { bpmnlint: lintConfig({ ...config.facts, language: config.language }), active: true },
  });
  const marks = new Marks(modeler);
  window.modeler = modeler;
  wire(modeler, config, marks);
  await load(modeler, config.xml, document.getElementById("modeler-result"), config.text);
  container.dataset.ready = "true";
}

start();
