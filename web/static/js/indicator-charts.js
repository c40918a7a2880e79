// Charts of the «Indicatori» page, drawn by Chart.js from the data table beside each chart:
// <canvas data-chart-table="ID" data-chart-type="bar|line" [data-chart-axis="y"]>; in the table,
// header cells with data-series name the series, rows with data-chart-row are drawn, their
// th[scope=row] is the label and each series cell carries its number in data-value ("" = none).
(function () {
  "use strict";
  var COLORS = ["#0066cc", "#d1344c", "#008055", "#cc7a00", "#5c6f82"];
  function draw(canvas) {
    var table = document.getElementById(canvas.dataset.chartTable);
    if (!table || !window.Chart) { return; }
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var series = [];
    headers.forEach(function (cell, index) {
      if (cell.hasAttribute("data-series")) { series.push({ index: index, label: cell.dataset.series || cell.textContent.trim() }); }
    });
    var rows = Array.prototype.slice.call(table.tBodies[0].rows).filter(function (row) { return row.hasAttribute("data-chart-row"); });
    var labels = rows.map(function (row) { var th = row.querySelector("th[scope=row]"); return th ? (th.dataset.label || th.textContent.trim()) : ""; });
    var datasets = series.map(function (s, n) {
      return {
        label: s.label,
        data: rows.map(function (row) { var v = row.cells[s.index] && row.cells[s.index].dataset.value; return v === undefined || v === "" ? null : Number(v); }),
        backgroundColor: COLORS[n % COLORS.length],
        borderColor: COLORS[n % COLORS.length],
        spanGaps: true
      };
    });
    new window.Chart(canvas, {
      type: canvas.dataset.chartType || "bar",
      data: { labels: labels, datasets: datasets },
      options: { indexAxis: canvas.dataset.chartAxis || "x", animation: false, responsive: true,
                 plugins: { legend: { display: datasets.length > 1, position: "bottom" } } }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart-table]"), draw);
  });
})();
