// The scalar cards' hover tooltip: every run of the card at the hovered x, with its smoothed
// and raw value, step and relative time, ordered by state.tsort (value: highest first;
// nearest: closest to the pointer's height first; name). Plotly's own hover label is turned
// off; its hover events still say where the pointer is. Run names are set as text.

import { formatRelative, formatValue, rowsAt } from "./card_points.js";
import { runColor } from "./colors.js";
import { cssVar, el } from "./dom.js";
import { state } from "./state.js";
import { naturalCompare } from "./tags.js";

let box = null;

function tooltipBox() {
  if (!box) {
    box = el("div", { class: "chart-tooltip", role: "tooltip", hidden: true });
    document.body.append(box);
  }
  return box;
}

/** Plotly draws no hover label of its own, but still reports hover events. */
export function quietHover(traces, layout) {
  for (const trace of traces) {
    if (trace.hoverinfo === "skip") continue;
    trace.hoverinfo = "none";
    delete trace.hovertemplate;
  }
  layout.hovermode = "x";
  // plotly underlays the spike line with the plot's background: make that the card's, not
  // the white it assumes for a transparent plot (a bright bar in the dark theme)
  layout.plot_bgcolor = cssVar("--surface");
  layout.xaxis.showspikes = true;
  layout.xaxis.spikemode = "across";
  layout.xaxis.spikesnap = "cursor";
}

/** Sort tooltip rows; `y` is the data value at the pointer's height (for "nearest"). */
export function sortRows(rows, order, y) {
  const key = (row) => (Number.isFinite(row.smoothed) ? row.smoothed : -Infinity);
  const sorted = [...rows];
  if (order === "name") sorted.sort((a, b) => naturalCompare(a.run, b.run));
  else if (order === "nearest" && Number.isFinite(y)) {
    const gap = (row) => (Number.isFinite(row.smoothed) ? Math.abs(row.smoothed - y) : Infinity);
    sorted.sort((a, b) => gap(a) - gap(b));
  } else sorted.sort((a, b) => key(b) - key(a));
  return sorted;
}

/** The data value under the pointer's height, from plotly's y axis. */
function pointerY(plot, event) {
  const axis = plot._fullLayout?.yaxis;
  if (!axis || !event) return Number.NaN;
  const top = plot.getBoundingClientRect().top + axis._offset;
  const linear = axis.p2l(event.clientY - top);
  return axis.type === "log" ? 10 ** linear : linear;
}

function row(r) {
  const swatch = el("span", { class: "run-swatch", "aria-hidden": "true" });
  swatch.style.background = runColor(r.run);
  return el(
    "tr",
    { dataset: { run: r.run } },
    el("td", {}, swatch),
    el("td", { class: "name", text: r.run }),
    el("td", { class: "num", text: formatValue(r.smoothed) }),
    el("td", { class: "num", text: formatValue(r.value) }),
    el("td", { class: "num", text: String(r.step) }),
    el("td", { class: "num", text: formatRelative(r.relative) }),
  );
}

/** Fill and place the tooltip for a plotly_hover event on `card`. */
function show(card, ev) {
  const x = ev.xvals?.[0] ?? ev.points?.[0]?.x;
  if (x === undefined || !ev.event) return;
  const rows = sortRows(rowsAt(card, Number(x)), state.tsort, pointerY(card.plot, ev.event));
  if (!rows.length) return hide();
  const tip = tooltipBox();
  const head = el(
    "tr",
    {},
    el("th", {}),
    el("th", { text: "Run" }),
    el("th", { text: state.smoothing > 0 ? "Smoothed" : "Value" }),
    el("th", { text: "Value" }),
    el("th", { text: "Step" }),
    el("th", { text: "Relative" }),
  );
  tip.replaceChildren(
    el("table", {}, el("thead", {}, head), el("tbody", {}, rows.map(row))),
    el("p", { class: "tooltip-sort", text: `sorted by ${state.tsort}` }),
  );
  tip.dataset.tag = card.tag;
  tip.hidden = false;
  const { clientX, clientY } = ev.event;
  const width = tip.offsetWidth;
  const height = tip.offsetHeight;
  const left = clientX + 16 + width > window.innerWidth ? clientX - 16 - width : clientX + 16;
  tip.style.left = `${Math.max(4, left)}px`;
  tip.style.top = `${Math.max(4, Math.min(clientY + 12, window.innerHeight - height - 4))}px`;
}

export function hide() {
  if (box) box.hidden = true;
}

/** Listen to a drawn card's hover events. */
export function attachTooltip(card) {
  card.plot.on("plotly_hover", (ev) => show(card, ev));
  card.plot.on("plotly_unhover", hide);
  card.plot.addEventListener("mouseleave", hide);
}
