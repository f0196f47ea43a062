/* bpmn-js on the console's pages: a case's diagram with its path lit, and the modeler. */
(function () {
  "use strict";

  function parse(attribute) { try { return JSON.parse(attribute || "[]"); } catch (e) { return []; } }

  function light(viewer, visited, current) {
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    var passed = new Set(visited.concat(current));
    visited.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "case-visited"); });
    // A flow is lit when the case passed both its ends.
    registry.filter(function (element) { return element.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      if (passed.has(flow.source.id) && passed.has(flow.target.id)) canvas.addMarker(flow.id, "case-flow");
    });
    current.forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "case-current"); });
  }

  async function showCase(container, xml) {
    var viewer = new BpmnJS({ container: container });
    var result = await viewer.importXML(xml);
    viewer.get("canvas").zoom("fit-viewport");
    light(viewer, parse(container.dataset.visited), parse(container.dataset.current));
    container.dataset.ready = "true";
    container.dataset.warnings = String(result.warnings.length);
    window.caseViewer = viewer;
    return viewer;
  }

  function csrf() { return document.querySelector("meta[name=csrf-token]").content; }

  async function editor(container, xml, options) {
    var modeler = new BpmnJS({ container: container, keyboard: { bindTo: document } });
    await modeler.importXML(xml);
    modeler.get("canvas").zoom("fit-viewport");
    window.modeler = modeler;
    container.dataset.ready = "true";
    var result = document.getElementById("deploy-result"), marked = null;
    document.getElementById("deploy").addEventListener("click", async function () {
      var saved = await modeler.saveXML({ format: true });
      var response = await fetch(options.deployUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: JSON.stringify({ bpmn: saved.xml, note: document.getElementById("deploy-note").value,
                               base_version: options.baseVersion })
      });
      var body = await response.json();
      var canvas = modeler.get("canvas"), overlays = modeler.get("overlays");
      if (marked) { canvas.removeMarker(marked, "invalid"); overlays.remove({ type: "invalid" }); marked = null; }
      result.hidden = false;
      if (response.ok) {
        result.className = "notice";
        result.textContent = body.unchanged ? options.text.unchanged : options.text.deployed.replace("{version}", body.version);
        return;
      }
      result.className = "error";
      result.textContent = options.text.refused + " " + (body.error || body.message);
      if (body.element && modeler.get("elementRegistry").get(body.element)) {
        marked = body.element;
        canvas.addMarker(marked, "invalid");
        overlays.add(marked, "invalid", { position: { bottom: -8, left: 0 },
          html: '<div class="invalid-note"></div>' });
        container.querySelector(".invalid-note").textContent = body.error;
      }
    });
  }

  window.Diagram = { showCase: showCase, editor: editor };
})();
