"""Coverage of the process diagrams by scenario runs: flow nodes and sequence flows taken, and an HTML report."""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ...engine import scenario_paths
from .runner import ScenarioResult


@dataclass
class ProcessCoverage:
    """What the scenarios took of one process."""

    process_id: str
    name: str
    file: Path
    nodes: dict[str, str]
    flows: list[scenario_paths.Flow]
    taken_nodes: set[str] = field(default_factory=set)
    taken_flows: set[str] = field(default_factory=set)

    @property
    def node_percent(self) -> float:
        """Share of flow nodes reached, 0-100."""
        return 100.0 * len(self.taken_nodes) / len(self.nodes) if self.nodes else 100.0

    @property
    def flow_percent(self) -> float:
        """Share of sequence flows taken, 0-100."""
        return 100.0 * len(self.taken_flows) / len(self.flows) if self.flows else 100.0

    def missed_nodes(self) -> list[str]:
        """Flow nodes no scenario reached, as 'id (name)'."""
        return [f"{i} ({n})" if n != i else i for i, n in self.nodes.items() if i not in self.taken_nodes]

    def missed_flows(self) -> list[str]:
        """Sequence flows no scenario took, as 'id: source -> target'."""
        return [f"{f.flow_id}: {f.source} -> {f.target}" for f in self.flows if f.flow_id not in self.taken_flows]


def coverage(processes: Path, results: Iterable[ScenarioResult]) -> list[ProcessCoverage]:
    """Per process of the folder's BPMN files, what the scenario runs reached and took."""
    report: list[ProcessCoverage] = []
    runs = list(results)
    started = {process for run in runs for process in run.nodes}
    for file in sorted(processes.glob("*.bpmn")):
        for diagram in scenario_paths.diagrams_of(file.read_bytes()):
            item = ProcessCoverage(diagram.process_id, diagram.name, file, diagram.nodes, diagram.flows)
            # A process only ever called from another (call activity) runs inside its caller's instance.
            called = diagram.process_id not in started
            for run in runs:
                nodes = set().union(*run.nodes.values()) if called else run.nodes.get(diagram.process_id, set())
                item.taken_nodes |= nodes & set(diagram.nodes)
                pairs = set().union(*run.flows.values()) if called else run.flows.get(diagram.process_id, set())
                item.taken_flows |= {f.flow_id for f in diagram.flows if (f.source, f.target) in pairs}
            report.append(item)
    return report


# The files the report needs from bpmn-js's distribution, copied next to it at run time.
_ASSETS = ("dist/bpmn-viewer.production.min.js", "dist/assets/diagram-js.css", "dist/assets/bpmn-js.css",
           "dist/assets/bpmn-font/css/bpmn-embedded.css")


def write_html(report: list[ProcessCoverage], target: Path, node_modules: Path) -> Path:
    """An HTML page per run drawing each diagram with bpmn-js, covered elements in green, missed in red."""
    target.mkdir(parents=True, exist_ok=True)
    vendor = target / "bpmn-js"
    source = node_modules / "bpmn-js"
    for asset in _ASSETS:
        if not (source / asset).is_file():
            raise FileNotFoundError(f"{source / asset} is missing: run `npm install` (make frontend)")
        (vendor / asset).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / asset, vendor / asset)
    sections, scripts = [], []
    for index, item in enumerate(report):
        missed = "".join(f"<li>{html.escape(m)}</li>" for m in item.missed_nodes() + item.missed_flows())
        sections.append(
            f"<section><h2>{html.escape(item.name)} <small>({html.escape(item.process_id)}, "
            f"{html.escape(item.file.name)})</small></h2>"
            f"<p>Flow nodes: {item.node_percent:.1f}% ({len(item.taken_nodes)}/{len(item.nodes)}) · "
            f"Sequence flows: {item.flow_percent:.1f}% ({len(item.taken_flows)}/{len(item.flows)})</p>"
            f"<div class='canvas' id='canvas{index}'></div>"
            f"<details><summary>Not taken by any scenario</summary><ul>{missed or '<li>none</li>'}</ul></details>"
            "</section>")
        covered = sorted(item.taken_nodes | item.taken_flows)
        missing = sorted((set(item.nodes) - item.taken_nodes) | {f.flow_id for f in item.flows} - item.taken_flows)
        scripts.append(
            f"draw('canvas{index}', {json.dumps(item.file.read_text(encoding='utf-8'))}, "
            f"{json.dumps(item.process_id)}, {json.dumps(covered)}, {json.dumps(missing)});")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Scenario coverage</title>
<link rel="stylesheet" href="bpmn-js/dist/assets/diagram-js.css">
<link rel="stylesheet" href="bpmn-js/dist/assets/bpmn-js.css">
<link rel="stylesheet" href="bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css">
<style>
body {{ font-family: sans-serif; margin: 1em 2em; }}
.canvas {{ height: 600px; border: 1px solid #ccc; }}
.covered:not(.djs-connection) .djs-visual > :nth-child(1) {{ fill: #c8f0c8 !important; stroke: #1b7a1b !important; }}
.covered.djs-connection .djs-visual > path {{ stroke: #1b7a1b !important; stroke-width: 3px !important; }}
.missed:not(.djs-connection) .djs-visual > :nth-child(1) {{ fill: #fbd4d4 !important; stroke: #b00020 !important; }}
.missed.djs-connection .djs-visual > path {{ stroke: #b00020 !important; stroke-dasharray: 6 3; }}
</style></head><body>
<h1>Scenario coverage</h1>
<p>Green: taken by at least one scenario. Red: taken by none.</p>
{''.join(sections)}
<script src="bpmn-js/dist/bpmn-viewer.production.min.js"></script>
<script>
async function draw(id, xml, processId, covered, missing) {{
  const viewer = new BpmnJS({{ container: '#' + id }});
  await viewer.importXML(xml);
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport');
  for (const el of covered) if (registry.get(el)) canvas.addMarker(el, 'covered');
  for (const el of missing) if (registry.get(el)) canvas.addMarker(el, 'missed');
}}
{chr(10).join(scripts)}
</script></body></html>
"""
    index_file = target / "index.html"
    index_file.write_text(page, encoding="utf-8")
    return index_file
