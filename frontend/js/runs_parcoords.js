// The Runs tab's parallel-coordinates plot (plotly parcoords): one axis per hyperparameter
// and one for the chosen metric, one line per run in its color. Brushing an axis sets that
// column's range filter (runs_filter.js), so the table, the run selection and every view
// follow; a range typed in the table shows as the axis's brush.

import { runColor } from "./colors.js";
import { cellNumber, columnLabel } from "./runs_columns.js";
import { baseLayout, PLOT_CONFIG, plotText, purge, whenPlotly } from "./plots.js";

/** The rows every axis has a number for (a parcoords line needs a value on each). */
function plottable(rows, specs, data) {
  return rows.filter((row) => specs.every((spec) => Number.isFinite(cellNumber(row, spec, data))));
}

/** A discrete colorscale: line i is drawn in colors[i] whatever else is on the plot. */
function colorLine(rows) {
  const colors = [...new Set(rows.map((row) => runColor(row.name)))];
  const index = new Map(colors.map((c, i) => [c, i]));
  const n = Math.max(1, colors.length);
  const colorscale = colors.flatMap((c, i) => [[i / n, c], [(i + 1) / n, c]]);
  if (!colorscale.length) colorscale.push([0, "#888"], [1, "#888"]);
  return {
    color: rows.map((row) => index.get(runColor(row.name)) + 0.5),
    cmin: 0,
    cmax: n,
    colorscale,
    showscale: false,
  };
}

function dimension(spec, rows, data, range) {
  const values = rows.map((row) => cellNumber(row, spec, data));
  const label = spec.kind === "metric" ? `${spec.tag} (${spec.mode})` : columnLabel(spec);
  const dim = { label: plotText(label), values, multiselect: false };
  const categories = spec.kind === "hparam" ? data.categories.get(spec.name) : null;
  if (categories) {
    dim.tickvals = categories.map((_, i) => i);
    dim.ticktext = categories.map((c) => plotText(c));
    dim.range = categories.length > 1 ? [0, categories.length - 1] : [-0.5, 0.5];
  }
  if (range && values.length) {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    // an open bound reaches to the data's end (but never past the other bound)
    dim.constraintrange = [range.min ?? Math.min(lo, range.max),
      range.max ?? Math.max(hi, range.min)];
  }
  return dim;
}

/** A constraintrange as plotly keeps it ([a, b], [[a, b]] or nothing) → [a, b] or null. */
export function brushOf(dim) {
  let range = dim?.constraintrange;
  if (!Array.isArray(range) || !range.length) return null;
  if (Array.isArray(range[0])) range = range[0];
  const [a, b] = range.map(Number);
  return Number.isFinite(a) && Number.isFinite(b) ? [Math.min(a, b), Math.max(a, b)] : null;
}

/** A brush moved: note it in the drawn trace (no redraw for it) and report it. */
function onRestyle(div, event) {
  const dims = div.data?.[0]?.dimensions ?? [];
  for (const change of Object.keys(event?.[0] ?? {})) {
    const match = /^dimensions\[(\d+)\]\.constraintrange$/.exec(change);
    if (!match) continue;
    const i = Number(match[1]);
    const spec = div.specs?.[i];
    if (!spec) continue;
    const range = brushOf(dims[i]);
    const mine = div.trace.dimensions[i];
    if (range) mine.constraintrange = range;
    else delete mine.constraintrange;
    div.traceKey = JSON.stringify(div.trace);
    div.onBrush(spec.id, range);
  }
}

/**
 * Draw (or update) the plot in `div` for the runs `rows` over the axes `specs`; `ranges`
 * are the range filters by column id; onBrush(id, [min, max] | null) reports a brushed axis.
 * Returns the number of runs drawn.
 */
export function drawParcoords(div, { rows, specs, data, ranges, onBrush }) {
  const shown = plottable(rows, specs, data);
  const trace = {
    type: "parcoords",
    line: colorLine(shown),
    dimensions: specs.map((spec) => dimension(spec, shown, data, ranges.get(spec.id))),
    labelangle: 0,
  };
  const key = JSON.stringify(trace);
  div.dataset.lines = String(shown.length);
  if (!shown.length) {
    purge(div);
    div.replaceChildren();
    div.traceKey = "";
    div.dataset.state = "empty";
    return 0;
  }
  // After the table has painted: 1000 lines take a while in a software-rendered WebGL.
  setTimeout(() => whenPlotly(() => {
    if (div.traceKey === key) return; // drawn, or being drawn (no second react meanwhile)
    div.traceKey = key;
    div.specs = specs;
    div.trace = trace;
    div.onBrush = onBrush;
    const layout = { ...baseLayout(), margin: { l: 60, r: 60, t: 36, b: 16 } };
    div.dataset.state = "drawing";
    window.Plotly.react(div, [trace], layout, PLOT_CONFIG).then(() => {
      div.dataset.state = "drawn";
      if (div.brushWired) return;
      div.brushWired = true;
      div.on("plotly_restyle", (event) => onRestyle(div, event));
    });
  }), 0);
  return shown.length;
}

/** Remove the plot (the tab lost its hyperparameters or its metric). */
export function clearParcoords(div) {
  purge(div);
  div.replaceChildren();
  div.traceKey = "";
  div.dataset.lines = "0";
}
