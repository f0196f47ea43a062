// The diagrams the console shows without editing: a case's (its path and position lit, zoomed to where
// it is, names in the reader's language), an incident's element, and the visual diff of two versions.
import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "./diagram.css";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import { diff } from "bpmn-js-differ";
import { renameAll } from "./names.js";

// Labels are drawn at 12 px and a diagram opens at 100 %: readable without zooming (at least 11 px).
const TEXT = { defaultStyle: { fontSize: 12, lineHeight: 1.25 }, externalStyle: { fontSize: 12 } };

function configOf(container) { return JSON.parse(document.getElementById(container.dataset.config).textContent); }

async function open(container, config) {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { camunda: camundaModdle }, textRenderer: TEXT });
  const parsed = await viewer.get("moddle").fromXML(config.xml, "bpmn:Definitions");
  renameAll(parsed.rootElement, config.language, config.roles || {}, config.words || {});
  const imported = await viewer.importDefinitions(parsed.rootElement);
  container.dataset.warnings = String(parsed.warnings.length + imported.warnings.length);
  return viewer;
}

function light(viewer, visited, current, incident) {
  const canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
  const passed = new Set(visited.concat(current));
  visited.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, "case-visited"); });
  // A flow is lit when the case passed both its ends.
  registry.filter((element) => element.type === "bpmn:SequenceFlow").forEach((flow) => {
    if (flow.source && flow.target && passed.has(flow.source.id) && passed.has(flow.target.id)) canvas.addMarker(flow.id, "case-flow");
  });
  current.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, "case-current"); });
  incident.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, "case-incident"); });
}

function focus(viewer, ids) {
  // Scale 1, centred on the elements given (the case's current ones), or on the first of them when
  // they do not fit together: where the reader looks first, with labels at their drawn size.
  const canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
  const shapes = ids.map((id) => registry.get(id)).filter((shape) => shape && shape.width !== undefined && shape.type !== "label");
  const box = canvas.viewbox();
  const size = { width: box.outer.width, height: box.outer.height };
  if (!shapes.length) { canvas.zoom("fit-viewport", "auto"); return; }
  const bounds = (list) => ({ left: Math.min(...list.map((s) => s.x)), top: Math.min(...list.map((s) => s.y)),
    right: Math.max(...list.map((s) => s.x + s.width)), bottom: Math.max(...list.map((s) => s.y + s.height)) });
  let area = bounds(shapes);
  if (area.right - area.left > size.width - 40 || area.bottom - area.top > size.height - 40) {
    const tasks = shapes.filter((s) => /Task$/.test(s.type));
    area = bounds([tasks[0] || shapes[0]]);
  }
  canvas.viewbox({ x: (area.left + area.right) / 2 - size.width / 2, y: (area.top + area.bottom) / 2 - size.height / 2,
    width: size.width, height: size.height });
}

function controls(viewer, container, ids) {
  const bar = document.querySelector(`[data-controls="${container.id}"]`);
  if (!bar) return;
  const canvas = viewer.get("canvas");
  const act = { "zoom-in": () => canvas.zoom(canvas.zoom() * 1.25), "zoom-out": () => canvas.zoom(canvas.zoom() / 1.25),
    fit: () => canvas.zoom("fit-viewport", "auto"), here: () => focus(viewer, ids) };
  bar.querySelectorAll("button[data-action]").forEach((button) => button.addEventListener("click", () => act[button.dataset.action]()));
}

async function showCase(container) {
  const config = configOf(container);
  const viewer = await open(container, config);
  const current = config.current || [], visited = config.visited || [], incident = config.incident || [];
  light(viewer, visited, current, incident);
  const where = current.length ? current : incident.length ? incident : visited.slice(-1);
  focus(viewer, where);
  controls(viewer, container, where);
  container.dataset.ready = "true";
  window.caseViewer = viewer;
  return viewer;
}

function paint(viewer, ids, marker) {
  const registry = viewer.get("elementRegistry"), canvas = viewer.get("canvas");
  ids.forEach((id) => { if (registry.get(id)) canvas.addMarker(id, marker); });
}

async function showDiff(oldContainer, newContainer) {
  const [before, after] = await Promise.all([open(oldContainer, configOf(oldContainer)), open(newContainer, configOf(newContainer))]);
  const changes = diff(before.getDefinitions(), after.getDefinitions());
  paint(before, Object.keys(changes._removed), "diff-removed");
  paint(before, Object.keys(changes._changed), "diff-changed");
  paint(after, Object.keys(changes._added), "diff-added");
  paint(after, Object.keys(changes._changed), "diff-changed");
  paint(after, Object.keys(changes._layoutChanged).filter((id) => !changes._changed[id]), "diff-layout");
  // At 100 % on the first change (labels readable); "显示全图" shows the whole of both.
  const changed = Object.keys(changes._added).concat(Object.keys(changes._changed));
  if (changed.length) focus(after, changed.slice(0, 1));
  else after.get("canvas").zoom("fit-viewport", "auto");
  before.get("canvas").viewbox(after.get("canvas").viewbox());
  // Moving one moves the other: the same place in both versions.
  let syncing = false;
  const follow = (from, to) => from.on("canvas.viewbox.changed", ({ viewbox }) => {
    if (syncing) return;
    syncing = true;
    to.get("canvas").viewbox({ x: viewbox.x, y: viewbox.y, width: viewbox.width, height: viewbox.height });
    syncing = false;
  });
  follow(before, after);
  follow(after, before);
  if (!changed.length) before.get("canvas").zoom("fit-viewport", "auto");
  controls(after, newContainer, []);
  const counts = { added: Object.keys(changes._added).length, removed: Object.keys(changes._removed).length,
    changed: Object.keys(changes._changed).length, layout: Object.keys(changes._layoutChanged).length };
  newContainer.dataset.counts = JSON.stringify(counts);
  newContainer.dataset.ready = oldContainer.dataset.ready = "true";
  window.diffViewers = { before, after, changes };
}

function start() {
  document.querySelectorAll(".diagram[data-kind=case]").forEach((container) => showCase(container));
  const oldDiagram = document.getElementById("diff-old"), newDiagram = document.getElementById("diff-new");
  if (oldDiagram && newDiagram) showDiff(oldDiagram, newDiagram);
}

start();
