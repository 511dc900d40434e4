// The data table under a scalar card: click the chart for every run's values at that step,
// or drag across it (plotly's zoom) for what each run did over the range: start and end,
// change, min, max, mean. Follows the data as it updates; × closes it.

import { formatRelative, formatValue, rangeStats, rowsAt } from "./card_points.js";
import { runColor } from "./colors.js";
import { el } from "./dom.js";
import { rangeNumber } from "./scalar_axes.js";
import { state } from "./state.js";

const STEP_COLUMNS = ["Run", "Smoothed", "Value", "Step", "Relative", "Wall time"];
const RANGE_COLUMNS = ["Run", "Start step", "End step", "Start", "End", "Change", "Min", "Max",
  "Mean", "Points"];

/** The (hidden) table element a card shows under its chart. */
export function tableElement() {
  return el("div", { class: "data-table", hidden: true });
}

function swatchCell(run) {
  const swatch = el("span", { class: "run-swatch", "aria-hidden": "true" });
  swatch.style.background = runColor(run);
  return el("td", { class: "name" }, swatch, el("span", { text: run }));
}

function table(columns, rows) {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", text: c })))),
    el("tbody", {}, rows),
  );
}

function stepRows(card, x) {
  const rows = rowsAt(card, x);
  return rows.map((r) =>
    el(
      "tr",
      { dataset: { run: r.run } },
      swatchCell(r.run),
      el("td", { class: "num", text: formatValue(r.smoothed) }),
      el("td", { class: "num", text: formatValue(r.value) }),
      el("td", { class: "num", text: String(r.step) }),
      el("td", { class: "num", text: formatRelative(r.relative) }),
      el("td", { class: "num", text: new Date(r.wall * 1000).toLocaleString() }),
    ),
  );
}

function rangeRows(card, x0, x1) {
  const rows = rangeStats(card, x0, x1);
  return rows.map((r) =>
    el(
      "tr",
      { dataset: { run: r.run } },
      swatchCell(r.run),
      ...[r.startStep, r.endStep].map((s) => el("td", { class: "num", text: String(s) })),
      ...[r.start, r.end, r.change, r.min, r.max, r.mean].map((v) =>
        el("td", { class: "num", text: formatValue(v) }),
      ),
      el("td", { class: "num", text: String(r.points) }),
    ),
  );
}

/** An x position as the axis reads it: a step, a relative time or a (local) wall time. */
function xText(x) {
  if (state.x === "step") return `step ${Math.round(x)}`;
  if (state.x === "wall") return new Date(x).toISOString().replace("T", " ").slice(0, 19);
  return `${formatValue(x)} (relative)`;
}

/** Redraw the card's table for its current selection (after new data or a redraw). */
export function refreshTable(card) {
  const box = card.table;
  const pick = card.tablePick;
  if (!box || !pick) return;
  const close = el("button", {
    type: "button",
    class: "card-tool",
    "aria-label": `Close the data table of ${card.tag}`,
    title: "Close",
    text: "×",
    onclick: () => showTable(card, null),
  });
  const title =
    pick.kind === "step" ? `At ${xText(pick.x)}` : `From ${xText(pick.x0)} to ${xText(pick.x1)}`;
  const body =
    pick.kind === "step"
      ? table(STEP_COLUMNS, stepRows(card, pick.x))
      : table(RANGE_COLUMNS, rangeRows(card, pick.x0, pick.x1));
  box.replaceChildren(el("div", { class: "data-table-head" }, el("span", { text: title }), close),
    body);
  box.dataset.kind = pick.kind;
  box.hidden = false;
}

/** Show the table for a pick ({kind: "step", x} | {kind: "range", x0, x1}) or hide it. */
export function showTable(card, pick) {
  card.tablePick = pick;
  if (!pick) {
    card.table.hidden = true;
    card.table.replaceChildren();
    return;
  }
  refreshTable(card);
}

/** Listen to a drawn card's clicks (one step) and zooms (a range). */
export function attachTable(card) {
  card.plot.on("plotly_click", (ev) => {
    const x = ev.points?.[0]?.x;
    if (x === undefined) return;
    const value = state.x === "wall" ? rangeNumber(x, "wall") : Number(x);
    showTable(card, { kind: "step", x: value });
  });
  card.plot.on("plotly_relayout", (ev) => {
    if (ev["xaxis.autorange"]) {
      if (card.tablePick?.kind === "range") showTable(card, null);
      return;
    }
    let range = ev["xaxis.range"];
    if (!range && "xaxis.range[0]" in ev) range = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
    if (!range) return;
    const [x0, x1] = range.map((v) => rangeNumber(v, state.x));
    showTable(card, { kind: "range", x0: Math.min(x0, x1), x1: Math.max(x0, x1) });
  });
}
