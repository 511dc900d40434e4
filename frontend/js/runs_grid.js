// The Runs table's DOM: a header with sort buttons, a last/min/max choice per metric column
// and min/max boxes per numeric column; one row per run with its checkbox (the global run
// selection), color, name and cells. Only the rows in view of the scroll box are in the DOM
// (fixed row height, two spacer rows stand in for the rest), as in the run list (runs.js).

import { formatValue } from "./card_points.js";
import { runColor } from "./colors.js";
import { debounce, el } from "./dom.js";
import { MODES, cellStep, cellValue, columnLabel, isNumeric } from "./runs_columns.js";

export const ROW_HEIGHT = 28; // px; matches .runs-table tbody tr in runs.css
const OVERSCAN = 12;
const TYPE_PAUSE_MS = 250;

/** A cell's text and its tooltip. */
function cellText(row, spec, data) {
  const value = cellValue(row, spec, data);
  if (value === null) return { text: "–", title: "" };
  if (spec.kind === "updated") {
    const date = new Date(value * 1000);
    return { text: date.toLocaleString(), title: date.toISOString() };
  }
  if (typeof value === "number") {
    const step = cellStep(row, spec, data);
    const title = step === null ? String(value) : `${value} at step ${step}`;
    return { text: formatValue(value), title, step };
  }
  return { text: String(value), title: String(value) };
}

function dataCell(row, spec, data) {
  const { text, title, step } = cellText(row, spec, data);
  const numeric = typeof cellValue(row, spec, data) === "number";
  return el(
    "td",
    { class: numeric ? "num" : null, title },
    el("span", { text }),
    step !== undefined && step !== null
      ? el("span", { class: "cell-step", text: `@${step}` })
      : null,
  );
}

/**
 * Make the table in `box` (a scroll container). `on` has the callbacks: sort(id),
 * mode(tag, mode), range(id, min, max), check(name, on), checkAll(on).
 */
export function createGrid(box, on) {
  const colgroup = el("colgroup");
  const head = el("thead");
  const body = el("tbody");
  const table = el("table", { class: "runs-table" }, colgroup, head, body);
  box.replaceChildren(table);
  let specs = [];
  let headerKey = "";
  let rows = [];
  let data = null;
  let checked = () => false;
  let allBox = null;
  let headHeight = 0;
  let rendered = [0, 0]; // the rows in the DOM: [start, end)
  const rangeInputs = new Map(); // id -> [min input, max input]

  function sortHeader(spec, sort) {
    const label = columnLabel(spec);
    const active = sort.id === spec.id;
    const arrow = active ? (sort.dir > 0 ? " ▲" : " ▼") : "";
    const button = el("button", {
      type: "button",
      class: "sort-button",
      title: `Sort by ${label}`,
      text: `${label}${arrow}`,
      onclick: () => on.sort(spec.id),
    });
    const th = el("th", { scope: "col", dataset: { col: spec.id } }, button);
    th.setAttribute("aria-sort", active ? (sort.dir > 0 ? "ascending" : "descending") : "none");
    if (spec.kind === "metric") {
      const select = el(
        "select",
        { class: "mode-select", "aria-label": `Value of ${spec.tag} shown` },
        MODES.map((m) => el("option", { value: m, text: m, selected: m === spec.mode })),
      );
      select.addEventListener("change", () => on.mode(spec.tag, select.value));
      th.append(select);
    }
    return th;
  }

  function filterHeader(spec) {
    if (!isNumeric(spec, data) || spec.kind === "updated") return el("th", { scope: "col" });
    const label = columnLabel(spec);
    const box2 = (bound) =>
      el("input", {
        type: "number",
        step: "any",
        class: "range-input",
        placeholder: bound,
        "aria-label": `${label}${spec.kind === "metric" ? ` (${spec.mode})` : ""} ${bound}imum`,
      });
    const lo = box2("min");
    const hi = box2("max");
    const send = debounce(() => {
      const parse = (input) =>
        input.value === "" || !input.checkValidity() ? null : Number(input.value);
      on.range(spec.id, parse(lo), parse(hi));
    }, TYPE_PAUSE_MS);
    lo.addEventListener("input", send);
    hi.addEventListener("input", send);
    rangeInputs.set(spec.id, [lo, hi]);
    return el("th", { scope: "col", class: "range-cell" }, lo, hi);
  }

  /** Rebuild the header when the columns, sort or column kinds changed. */
  function setColumns(nextSpecs, nextData, sort) {
    data = nextData;
    specs = nextSpecs;
    const key = JSON.stringify([specs.map((s) => [s.id, isNumeric(s, data)]), sort]);
    if (key === headerKey) return;
    const focused = document.activeElement;
    const focusCol = box.contains(focused) ? focused.closest("th")?.dataset.col : null;
    const focusRange = [...rangeInputs].find(([, pair]) => pair.includes(focused));
    headerKey = key;
    rangeInputs.clear();
    colgroup.replaceChildren(
      el("col", { class: "col-check" }),
      ...specs.map((s) => el("col", { class: s.kind === "name" ? "col-name" : "col-value" })),
    );
    allBox = el("input", { type: "checkbox", "aria-label": "Select every run in the table" });
    allBox.addEventListener("change", () => on.checkAll(allBox.checked));
    head.replaceChildren(
      el("tr", { class: "sort-row" }, el("th", { scope: "col" }, allBox),
        specs.map((s) => sortHeader(s, sort))),
      el("tr", { class: "filter-row" }, el("th", { scope: "col" }),
        specs.map((s) => filterHeader(s))),
    );
    headHeight = head.offsetHeight;
    if (focusCol) {
      head.querySelector(`th[data-col="${CSS.escape(focusCol)}"] .sort-button`)?.focus();
    }
    if (focusRange) {
      const [id] = focusRange;
      const index = focusRange[1].indexOf(focused);
      rangeInputs.get(id)?.[index]?.focus();
    }
  }

  /** Show the ranges in the min/max boxes (leaving the one being typed in alone). */
  function setRanges(ranges) {
    const byId = new Map(ranges.map((r) => [r.id, r]));
    for (const [id, pair] of rangeInputs) {
      const r = byId.get(id);
      const values = [r?.min ?? "", r?.max ?? ""];
      pair.forEach((input, i) => {
        if (input !== document.activeElement) input.value = String(values[i]);
      });
    }
  }

  function rowElement(row, index) {
    const box1 = el("input", {
      type: "checkbox",
      checked: checked(row.name),
      "aria-label": `Select run ${row.name}`,
    });
    box1.addEventListener("change", () => on.check(row.name, box1.checked));
    const swatch = el("span", { class: "run-swatch", "aria-hidden": "true" });
    swatch.style.background = runColor(row.name);
    const cells = specs.map((spec) =>
      spec.kind === "name"
        ? el("th", { scope: "row", class: "name", title: row.name }, swatch,
          el("span", { text: row.name }))
        : dataCell(row, spec, data),
    );
    const attrs = { dataset: { run: row.name }, "aria-rowindex": index + 3 }; // 2 header rows
    return el("tr", attrs, el("td", {}, box1), cells);
  }

  function spacer(count) {
    const tr = el("tr", { class: "runs-spacer", "aria-hidden": "true" });
    const td = el("td", { colspan: specs.length + 1 });
    td.style.height = `${count * ROW_HEIGHT}px`;
    tr.append(td);
    return tr;
  }

  /** The rows in view of the scroll box: [first, end). */
  function inView() {
    const top = Math.max(0, box.scrollTop - headHeight);
    const height = box.clientHeight || ROW_HEIGHT * 20;
    return [Math.floor(top / ROW_HEIGHT), Math.ceil((top + height) / ROW_HEIGHT)];
  }

  /** Render the rows in view (and OVERSCAN more each side). */
  function renderRows() {
    const t0 = performance.now();
    const total = rows.length;
    const [first, last] = inView();
    const start = Math.max(0, first - OVERSCAN);
    const end = Math.min(total, last + OVERSCAN);
    rendered = [start, end];
    const focusedRun = document.activeElement?.closest?.(".runs-table tbody tr")?.dataset.run;
    const items = [];
    for (let i = start; i < end; i++) items.push(rowElement(rows[i], i));
    if (!total) {
      const text = "No run matches the filters.";
      items.push(el("tr", { class: "hint-row" }, el("td", { colspan: specs.length + 1, text })));
    }
    body.replaceChildren(spacer(start), ...items, spacer(total - end));
    table.setAttribute("aria-rowcount", String(total + 2));
    box.dataset.total = String(total);
    if (focusedRun) body.querySelector(`tr[data-run="${CSS.escape(focusedRun)}"] input`)?.focus();
    box.dataset.rowsMs = (performance.now() - t0).toFixed(1); // the browser tests print it
    box.dataset.renders = String(Number(box.dataset.renders ?? 0) + 1);
  }

  // Scrolling within the rendered rows changes nothing in the DOM: rows are re-rendered
  // only when the view reaches past them (every OVERSCAN rows or so).
  let queued = false;
  box.addEventListener("scroll", () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      const [first, last] = inView();
      const covered = first >= rendered[0] && Math.min(last, rows.length) <= rendered[1];
      if (!covered) renderRows();
    });
  });

  return {
    setColumns,
    setRanges,
    /** New rows (sorted, filtered) and the checked test; re-renders the rows in view and
     * returns how many rows are checked. */
    setRows(nextRows, isChecked) {
      rows = nextRows;
      checked = isChecked;
      const maxTop = Math.max(0, rows.length * ROW_HEIGHT + headHeight - box.clientHeight);
      if (box.scrollTop > maxTop) box.scrollTop = maxTop;
      renderRows();
      const count = rows.reduce((n, row) => n + checked(row.name), 0);
      allBox.checked = rows.length > 0 && count === rows.length;
      allBox.indeterminate = count > 0 && count < rows.length;
      return count;
    },
    get table() {
      return table;
    },
  };
}
