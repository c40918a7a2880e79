// The instance diagram: bpmn-js draws the pinned version; markers show what ran, what is open,
// what waits (with due times) and what failed. The same facts are listed beside it as text.
(function () {
  "use strict";
  var CLASSES = { COMPLETED: "gol-completato", READY: "gol-pronto", STARTED: "gol-pronto", WAITING: "gol-attesa", ERROR: "gol-errore" };

  function badge(text, title, extra) {
    var el = document.createElement("span");
    el.className = "gol-scadenza" + (extra ? " " + extra : "");
    el.textContent = text;
    el.title = title;
    return el;
  }

  function mark(viewer, data) {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    Object.keys(data.classes || {}).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, data.classes[id]); }
    });
    Object.keys(data.states || {}).forEach(function (id) {
      var cls = CLASSES[data.states[id]];
      if (cls && registry.get(id)) { canvas.addMarker(id, cls); }
    });
    (data.waiting || []).forEach(function (w) {
      if (!registry.get(w.element)) { return; }
      canvas.addMarker(w.element, "gol-attesa");
      if (w.label) {
        overlays.add(w.element, { position: { bottom: -24, left: -24 }, html: badge(w.label, w.title || w.label) });
      }
    });
    if (data.failed && registry.get(data.failed)) {
      canvas.addMarker(data.failed, "gol-errore");
      overlays.add(data.failed, { position: { top: -12, left: -10 }, html: badge("Errore", "Passo in errore", "gol-scadenza-errore") });
    }
  }

  function show(box) {
    var status = box.querySelector(".diagramma-avviso");
    if (typeof window.BpmnJS === "undefined") { return; }
    var data = JSON.parse(box.getAttribute("data-marcatori") || "{}");
    var viewer = new window.BpmnJS({ container: box.querySelector(".diagramma-tela") });
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        viewer.get("canvas").zoom("fit-viewport", "auto");
        mark(viewer, data);
        box.setAttribute("data-caricato", "1");
        if (status) { status.textContent = ""; }
      })
      .catch(function () {
        if (status) { status.textContent = "Il diagramma non può essere mostrato: lo stato dell'istanza è elencato qui accanto."; }
        box.setAttribute("data-caricato", "errore");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-diagramma]");
    for (var i = 0; i < boxes.length; i += 1) { show(boxes[i]); }
  });
})();
