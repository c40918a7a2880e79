// Diagrams drawn by bpmn-js: an instance's (what ran, the path it took, what is open, what waits, what
// failed) and a version's heat (cases at each element now, time spent in it). The same facts are always
// listed beside the diagram as text; the diagram can be zoomed (wheel, buttons, + and -), panned (drag,
// arrow keys), fitted (0) and shown full screen.
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

  function markPath(viewer, data) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var reached = {};
    (data.path || []).forEach(function (id) { reached[id] = true; });
    registry.forEach(function (element) {
      if (reached[element.id] && !element.waypoints) { canvas.addMarker(element.id, "gol-percorso"); }
      if (element.waypoints && element.source && element.target && reached[element.source.id] && reached[element.target.id]) {
        canvas.addMarker(element.id, "gol-percorso");
      }
    });
  }

  function mark(viewer, data) {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    markPath(viewer, data);
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

  // The heat of a version: a level of colour by how many cases wait, a badge with the count and the times.
  function heat(viewer, data, box) {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    var most = 0;
    (data.elements || []).forEach(function (e) { most = Math.max(most, e.waiting); });
    (data.elements || []).forEach(function (e) {
      if (!registry.get(e.element)) { return; }
      if (e.waiting > 0) {
        var level = Math.min(4, 1 + Math.floor(3 * e.waiting / Math.max(1, most)));
        canvas.addMarker(e.element, "gol-calore-" + level);
        overlays.add(e.element, { position: { top: -14, right: 14 }, html: badge(String(e.waiting), e.name + ": " + e.waiting + " casi ora", "gol-calore-conteggio") });
      }
      if (e.times) {
        overlays.add(e.element, { position: { bottom: -22, left: 0 }, html: badge(e.times, e.name + ": mediana e 90° percentile del tempo nel passo", "gol-calore-tempi") });
      }
    });
    var target = box.getAttribute("data-casi");
    if (target) {
      viewer.get("eventBus").on("element.click", function (event) {
        var link = document.querySelector("[data-casi-elemento='" + event.element.id + "']");
        if (link) { link.click(); }
      });
    }
  }

  function controls(viewer, box) {
    var canvas = viewer.get("canvas");
    var zoomScroll = viewer.get("zoomScroll");
    var tela = box.querySelector(".diagramma-tela");
    function fit() { canvas.zoom("fit-viewport", "auto"); }
    function step(direction) { zoomScroll.stepZoom(direction); }
    zoomScroll.toggle(false);  // the wheel zooms here (without Ctrl); Shift+wheel pans sideways, drag pans
    tela.addEventListener("wheel", function (event) {
      event.preventDefault();
      var rect = tela.getBoundingClientRect();
      var where = { x: event.clientX - rect.left, y: event.clientY - rect.top };
      if (event.shiftKey) {
        canvas.scroll({ dx: -event.deltaY, dy: 0 });
      } else {
        zoomScroll.stepZoom(event.deltaY < 0 ? 1 : -1, where);
      }
    }, { passive: false });
    box.addEventListener("keydown", function (event) {
      if (event.target.tagName === "BUTTON" && (event.key === "Enter" || event.key === " ")) { return; }
      if (event.key === "+" || event.key === "=") { step(1); event.preventDefault(); }
      else if (event.key === "-") { step(-1); event.preventDefault(); }
      else if (event.key === "0") { fit(); event.preventDefault(); }
    });
    var actions = {
      "ingrandisci": function () { step(1); },
      "riduci": function () { step(-1); },
      "adatta": fit,
      "schermo-intero": function () {
        if (document.fullscreenElement) { document.exitFullscreen(); }
        else if (box.requestFullscreen) { box.requestFullscreen(); }
      }
    };
    var buttons = box.querySelectorAll("[data-comando]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", (function (name) {
        return function () { actions[name](); };
      })(buttons[i].getAttribute("data-comando")));
    }
    document.addEventListener("fullscreenchange", function () {
      var full = document.fullscreenElement === box;
      box.classList.toggle("diagramma-intero", full);
      var toggle = box.querySelector("[data-comando='schermo-intero']");
      if (toggle) { toggle.setAttribute("aria-pressed", full ? "true" : "false"); }
      canvas.resized();
      fit();
    });
  }

  function show(box) {
    var status = box.querySelector(".diagramma-avviso");
    if (typeof window.BpmnJS === "undefined") { return; }
    var data = JSON.parse(box.getAttribute("data-marcatori") || "{}");
    var viewer = new window.BpmnJS({ container: box.querySelector(".diagramma-tela"), keyboard: { bind: true } });
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        viewer.get("canvas").zoom("fit-viewport", "auto");
        if (box.hasAttribute("data-calore")) { heat(viewer, data, box); } else { mark(viewer, data); }
        controls(viewer, box);
        var svg = box.querySelector(".diagramma-tela svg");
        if (svg) { svg.setAttribute("aria-label", box.getAttribute("data-etichetta") || "Diagramma del processo"); svg.setAttribute("role", "img"); }
        box.setAttribute("data-caricato", "1");
        if (status) { status.textContent = ""; }
      })
      .catch(function () {
        if (status) { status.textContent = "Il diagramma non può essere mostrato: gli stessi dati sono elencati qui accanto."; }
        box.setAttribute("data-caricato", "errore");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-diagramma]");
    for (var i = 0; i < boxes.length; i += 1) { show(boxes[i]); }
  });
})();
