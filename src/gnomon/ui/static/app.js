// gnomon's pages: draws the charts whose data the page carries as JSON, submits the
// selects marked data-autosubmit, and re-reads a zoomed range of a metric in full.
"use strict";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939"];

function payload(figure) {
  const node = figure.querySelector("script[type='application/json']");
  return JSON.parse(node.textContent);
}

function options(spec, width, log) {
  return {
    width: width,
    height: 300,
    scales: { x: { time: spec.x_time === true }, y: { distr: log ? 3 : 1 } },
    axes: [{ label: spec.x_label || "" }, {}],
    cursor: { drag: { x: true, y: false } },
    series: [{ label: spec.x_label || "x" }].concat(spec.series.map((s, i) => ({
      label: s.label,
      stroke: COLOURS[i % COLOURS.length],
      width: 1.5,
      spanGaps: true,
      points: { show: spec.x.length < 60 },
    }))),
  };
}

function columns(spec, log) {
  // a log scale has no place for zero or less: those points become gaps
  const ys = spec.series.map((s) => s.values.map((v) => (log && v !== null && v <= 0 ? null : v)));
  return [spec.x].concat(ys);
}

function draw(figure) {
  const spec = payload(figure);
  const area = figure.querySelector(".chart-area");
  const logBox = figure.querySelector(".log-scale");
  let plot = null;
  const render = (data) => {
    if (plot) plot.destroy();
    const log = logBox && logBox.checked;
    plot = new uPlot(options(data, area.clientWidth || 800, log), columns(data, log), area);
    figure.dataset.points = String(data.series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0));
    figure.dataset.drawn = "true";
    if (data.run_id) plot.over.addEventListener("mouseup", () => zoomed(figure, plot, data));
  };
  if (logBox) logBox.addEventListener("change", () => render(figure.current || spec));
  figure.current = spec;
  render(spec);
  plot.root.addEventListener("dblclick", () => { figure.current = spec; render(spec); });
  figure.redraw = render;
}

// After a drag-zoom on a run's chart: fetch every point of the visible range (the page
// carries a cut of long series) and draw those.
function zoomed(figure, plot, spec) {
  const scale = plot.scales.x;
  if (scale.min === null || scale.max === null) return;
  const start = Math.floor(scale.min), end = Math.ceil(scale.max);
  if (!spec.series.some((s) => s.downsampled)) return;
  const query = (key) => `/runs/${encodeURIComponent(spec.run_id)}/series?key=${encodeURIComponent(key)}&start=${start}&end=${end}` + workspace();
  Promise.all(spec.series.map((s) => fetch(query(s.label), { credentials: "same-origin" }).then((r) => r.json())))
    .then((parts) => {
      const merged = mergeSeries(parts.map((p) => p.series[0]).filter(Boolean), parts.map((p) => p.x));
      merged.run_id = spec.run_id;
      merged.x_label = spec.x_label;
      figure.current = merged;
      figure.redraw(merged);
    }).catch(() => {});
}

function workspace() {
  const ws = new URLSearchParams(window.location.search).get("workspace");
  return ws ? `&workspace=${encodeURIComponent(ws)}` : "";
}

function mergeSeries(series, xs) {
  const all = Array.from(new Set([].concat(...xs))).sort((a, b) => a - b);
  const at = new Map(all.map((x, i) => [x, i]));
  return {
    x: all,
    series: series.map((s, k) => {
      const values = new Array(all.length).fill(null);
      xs[k].forEach((x, i) => { values[at.get(x)] = s.values[i]; });
      return { label: s.label, values: values, total: s.total, downsampled: s.downsampled };
    }),
  };
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("figure.chart").forEach((figure) => {
    try { draw(figure); } catch (err) { figure.dataset.error = String(err); }
  });
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
