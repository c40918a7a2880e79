// The analysts' modeler: bpmn-js with the Camunda 7 properties panel, bpmnlint while drawing, the
// service's own validation on the elements, drafts, a visual diff, scenarios, deploy, form preview.
// Bundled at set-up time (scripts/build-modeler) into web/static/vendor/modeler/, never committed.
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule } from "bpmn-js-properties-panel";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import lintModule from "bpmn-js-bpmnlint";
import { diff } from "bpmn-js-differ";
import BpmnModdle from "bpmn-moddle";
import lintConfig from "./lint-config.js";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";
import "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css";

function csrf() { return document.querySelector("meta[name=csrf-token]").content; }

async function call(method, url, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) { throw Object.assign(new Error(data.messaggio || response.statusText), { data }); }
  return data;
}

// The draft's own address: the page gives them for draft 0.
function forDraft(url, id) { return url.replace("/bozze/0/", `/bozze/${id}/`); }

function list(target, items, render) {
  target.replaceChildren(...items.map((item) => { const li = document.createElement("li"); render(li, item); return li; }));
}

function start(root) {
  const urls = JSON.parse(root.dataset.urls);
  const status = root.querySelector("#modeler-stato");
  const say = (text) => { status.textContent = text; };
  const modeler = new BpmnModeler({
    container: root.querySelector("#modeler-canvas"),
    propertiesPanel: { parent: root.querySelector("#modeler-proprieta") },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule, lintModule],
    moddleExtensions: { camunda: camundaModdle },
    linting: { bpmnlint: lintConfig, active: true },
  });
  window.golModeler = modeler;
  const overlays = modeler.get("overlays");
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  let draftId = root.dataset.bozza ? Number(root.dataset.bozza) : null;
  let serviceMarks = [];
  let diffMarks = [];

  // bpmnlint's findings, kept as a list beside the diagram (the overlays are on the elements).
  modeler.on("linting.completed", ({ issues }) => {
    const rows = [];
    Object.entries(issues || {}).forEach(([id, found]) => found.forEach((i) => rows.push({ id, text: i.message, rule: i.rule })));
    list(root.querySelector("#modeler-lint"), rows, (li, r) => { li.textContent = `${r.id}: ${r.text} (${r.rule})`; li.dataset.elemento = r.id; });
    root.querySelector("#modeler-lint-conta").textContent = String(rows.length);
  });

  async function check() {
    const { xml } = await modeler.saveXML({ format: true });
    const report = await call("POST", urls.verifica, { xml });
    serviceMarks.forEach((id) => overlays.remove({ element: id, type: "gol-verifica" }));
    serviceMarks = [];
    list(root.querySelector("#modeler-verifica"), report.problemi, (li, p) => {
      li.textContent = `riga ${p.riga ?? "-"}: ${p.elemento ?? "-"}: ${p.messaggio}`;
      li.dataset.elemento = p.elemento || "";
    });
    report.problemi.forEach((p) => {
      if (p.elemento && registry.get(p.elemento)) {
        const badge = document.createElement("span");
        badge.className = "gol-verifica-segno";
        badge.title = p.messaggio;
        badge.textContent = "!";
        overlays.add(p.elemento, "gol-verifica", { position: { top: -10, right: 10 }, html: badge });
        serviceMarks.push(p.elemento);
      }
    });
    root.querySelector("#modeler-verifica-conta").textContent = String(report.problemi.length);
    return report;
  }
  let timer = null;
  modeler.on("commandStack.changed", () => { clearTimeout(timer); timer = setTimeout(() => check().catch(() => {}), 600); });

  async function showDiff() {
    const deployed = await fetch(urls.pubblicata, { credentials: "same-origin" }).then((r) => r.text());
    const moddle = new BpmnModdle({ camunda: camundaModdle });
    const before = (await moddle.fromXML(deployed)).rootElement;
    const { xml } = await modeler.saveXML();
    const after = (await moddle.fromXML(xml)).rootElement;
    const changes = diff(before, after);
    diffMarks.forEach(([id, cls]) => canvas.removeMarker(id, cls));
    diffMarks = [];
    const rows = [];
    const mark = (id, cls, word, el) => {
      if (registry.get(id)) { canvas.addMarker(id, cls); diffMarks.push([id, cls]); }
      rows.push({ id, word, name: (el && el.name) || id });
    };
    Object.entries(changes._added).forEach(([id, el]) => mark(id, "gol-aggiunto", "aggiunto", el));
    Object.entries(changes._changed).forEach(([id, c]) => mark(id, "gol-modificato", "modificato", c.model));
    Object.entries(changes._layoutChanged).forEach(([id, el]) => mark(id, "gol-spostato", "spostato", el));
    Object.entries(changes._removed).forEach(([id, el]) => rows.push({ id, word: "rimosso", name: el.name || id }));
    list(root.querySelector("#modeler-differenze"), rows, (li, r) => { li.textContent = `${r.word}: ${r.name} (${r.id})`; });
    if (!rows.length) { root.querySelector("#modeler-differenze").innerHTML = "<li>Nessuna differenza dalla versione pubblicata.</li>"; }
  }

  root.querySelector("#modeler-salva").addEventListener("click", async () => {
    const note = root.querySelector("#modeler-nota").value.trim();
    if (!note) { say("Scrivere una nota di versione prima di salvare."); return; }
    const { xml } = await modeler.saveXML({ format: true });
    try {
      const saved = await call("POST", urls.bozze, { xml, nota: note });
      draftId = saved.id;
      say(`Bozza ${saved.id} salvata (non pubblicata).`);
      root.dataset.bozza = String(saved.id);
    } catch (e) { say(`Bozza non salvata: ${e.message}`); }
  });
  root.querySelector("#modeler-confronta").addEventListener("click", () => showDiff().catch((e) => say(e.message)));
  root.querySelector("#modeler-scenari").addEventListener("click", async () => {
    if (!draftId) { say("Salvare la bozza prima di eseguire gli scenari."); return; }
    say("Scenari in esecuzione…");
    try {
      const result = await call("POST", forDraft(urls.scenari, draftId));
      list(root.querySelector("#modeler-esiti"), result.esiti, (li, r) => { li.textContent = `${r.superato ? "✓" : "✗"} ${r.nome}`; if (r.dettaglio) { const pre = document.createElement("pre"); pre.textContent = r.dettaglio; li.append(pre); } });
      say(`Scenari: ${result.superati} superati, ${result.falliti} falliti.`);
    } catch (e) { say(`Scenari non eseguiti: ${e.message}`); }
  });
  root.querySelector("#modeler-impatto").addEventListener("click", async () => {
    if (!draftId) { say("Salvare la bozza prima di pubblicare."); return; }
    try {
      const impact = await call("GET", forDraft(urls.impatto, draftId));
      list(root.querySelector("#modeler-casi"), impact.versioni, (li, v) => { li.textContent = `v${v.versione}: ${v.in_corso} casi in corso, ${v.migrabili} migrabili alla nuova versione`; });
      root.querySelector("#modeler-pubblica").hidden = false;
    } catch (e) { say(`La bozza non si può pubblicare: ${e.message}`); }
  });
  root.querySelector("#modeler-pubblica").addEventListener("click", async () => {
    try {
      const done = await call("POST", forDraft(urls.pubblica, draftId));
      say(`Pubblicata la versione ${done.versione}.`);
    } catch (e) {
      const problems = (e.data && e.data.problemi) || [];
      say(`Non pubblicata: ${e.message}${problems.length ? " (" + problems.length + " problemi)" : ""}`);
    }
  });
  root.querySelector("#modeler-anteprima").addEventListener("click", async () => {
    const selection = modeler.get("selection").get();
    const element = selection[0] && selection[0].businessObject;
    const key = element && (element.get("camunda:formKey") || "");
    const frame = root.querySelector("#modeler-modulo");
    if (!key) { frame.textContent = "Selezionare un compito utente con un modulo (camunda:formKey)."; return; }
    const html = await fetch(urls.modulo + "?chiave=" + encodeURIComponent(key), { credentials: "same-origin" }).then((r) => r.text());
    frame.innerHTML = html;
  });

  fetch(urls.diagramma, { credentials: "same-origin" }).then((r) => r.text())
    .then((xml) => modeler.importXML(xml))
    .then(() => { canvas.zoom("fit-viewport"); root.dataset.pronto = "1"; return check(); })
    .catch((e) => say(`Diagramma non caricato: ${e.message}`));
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("modeler");
  if (root) { start(root); }
});
