// The run list in the sidebar: checkbox, color swatch and name per run, a regex filter,
// All/None. A run is drawn when it matches the filter and is checked.
//
// Thousands of runs: when more than RUN_CAP runs match the filter, only the first RUN_CAP
// of them start checked, with a note above the charts and one click to check them all
// (state.all); runs checked by hand beyond the cap are kept in state.show. Only the rows in
// view are in the DOM: rows have one fixed height, and two spacer rows stand in for the rest.

import { assignColors, runColor } from "./colors.js";
import { byId, compileFilter, el } from "./dom.js";
import { state, update } from "./state.js";

export const RUN_CAP = 20; // the palette's size: every run drawn by default has its own color
const ROW_HEIGHT = 26; // px; matches .run-list li in layout.css
const OVERSCAN = 10; // rows rendered above and below the visible ones

let allRuns = [];
let view = null; // {re, error, matching, capped, first}: derived from runs + filter + state
let rangeFilter = null; // run name -> bool: the Runs table's ranges (runs_tab.js), or null

/** Replace the known runs (from /api/runs) and redraw the list. */
export function setRuns(runs) {
  const signature = (list) =>
    list.map((run) => `${run.name}\u0000${run.corrupt_records}`).join("\n");
  const same = allRuns.length && signature(allRuns) === signature(runs);
  allRuns = runs;
  assignColors(runs.map((run) => run.name));
  view = null;
  if (!same) renderRunList(); // live updates refetch the runs every second or so
}

/** Every run the board knows, as /api/runs returned them. */
export function knownRuns() {
  return allRuns;
}

/** The filter's matches and the default cap, computed once per change. */
function currentView() {
  if (view) return view;
  const { re, error } = compileFilter(state.runs);
  const keep = (run) => (!re || re.test(run.name)) && (!rangeFilter || rangeFilter(run.name));
  const matching = re || rangeFilter ? allRuns.filter(keep) : allRuns;
  const capped = !state.all && matching.length > RUN_CAP;
  const first = new Set(capped ? matching.slice(0, RUN_CAP).map((run) => run.name) : []);
  const hidden = new Set(state.hide);
  view = { error, matching, capped, first, hidden, shown: new Set(state.show) };
  return view;
}

/** Whether a run's box is checked (under the cap: one of the first runs, or checked by hand). */
function isChecked(name, v = currentView(), hidden = v.hidden, shown = v.shown) {
  if (hidden.has(name)) return false;
  return !v.capped || v.first.has(name) || shown.has(name);
}

/** Whether a run is checked and passes the filters (the Runs table's checkboxes). */
export function runChecked(name) {
  return isChecked(name);
}

/**
 * Filter the runs further by a predicate on the run name (the Runs table's numeric ranges
 * and parallel-coordinates brush), or lift it (null): like the regex, it narrows what every
 * view draws. The caller re-renders its tab.
 */
export function setRangeFilter(fn) {
  rangeFilter = fn;
  view = null;
  renderRunList();
}

/** Runs that are checked and match the run filter, in name order. */
export function visibleRuns() {
  const v = currentView();
  const hidden = new Set(state.hide);
  const shown = new Set(state.show);
  return v.matching.filter((run) => isChecked(run.name, v, hidden, shown));
}

/** Number of tags of a kind in a run ("scalars", "images", "histograms"). */
function tagCount(run, kind) {
  return run.tags?.[kind]?.length ?? 0;
}

function runRow(run, index, total, checked) {
  const box = el("input", { type: "checkbox", checked, "aria-label": `Show run ${run.name}` });
  box.addEventListener("change", () => toggleRun(run.name, box.checked));
  const swatch = el("span", { class: "run-swatch", "aria-hidden": "true" });
  swatch.style.background = runColor(run.name);
  const meta = run.corrupt_records ? `${run.corrupt_records} corrupt` : "";
  return el(
    "li",
    {
      dataset: { run: run.name },
      title: run.name,
      "aria-setsize": total,
      "aria-posinset": index + 1,
    },
    el(
      "label",
      {},
      box,
      swatch,
      el("span", { class: "run-name", text: run.name }),
      meta ? el("span", { class: "run-meta", text: meta }) : null,
    ),
  );
}

/** An empty row standing in for `count` rows out of view (keeps the scroll height). */
function spacer(count) {
  const item = el("li", { class: "run-spacer", "aria-hidden": "true" });
  item.style.height = `${count * ROW_HEIGHT}px`;
  return item;
}

/** Render the rows in view of the list's scroll box (and OVERSCAN more each side). */
function renderRows() {
  const list = byId("run-list");
  const v = currentView();
  const total = v.matching.length;
  const height = list.clientHeight || ROW_HEIGHT * 20;
  const start = Math.max(0, Math.floor(list.scrollTop / ROW_HEIGHT) - OVERSCAN);
  const end = Math.min(total, Math.ceil((list.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const focusedName = document.activeElement?.closest?.("#run-list li")?.dataset.run;
  const hidden = new Set(state.hide);
  const shown = new Set(state.show);
  const rows = [];
  for (let i = start; i < end; i++) {
    const run = v.matching[i];
    rows.push(runRow(run, i, total, isChecked(run.name, v, hidden, shown)));
  }
  if (!allRuns.length) rows.push(el("li", { class: "hint", text: "No runs yet." }));
  else if (!total) rows.push(el("li", { class: "hint", text: "No run matches the filter." }));
  list.replaceChildren(spacer(start), ...rows, spacer(total - end));
  list.dataset.total = String(total);
  if (focusedName) {
    list.querySelector(`li[data-run="${CSS.escape(focusedName)}"] input`)?.focus();
  }
}

/** The note above the charts while the default cap holds, with its one-click way out. */
function renderCapNote() {
  const v = currentView();
  const note = byId("run-cap");
  note.hidden = !v.capped;
  if (!v.capped) return;
  const what = state.runs || rangeFilter ? "runs matching the filter" : "runs";
  const drawn = visibleRuns().length;
  byId("run-cap-text").textContent =
    `Drawing ${drawn.toLocaleString()} of ${v.matching.length.toLocaleString()} ${what}: ` +
    `the first ${RUN_CAP} unless unchecked` +
    (state.show.length ? `, and ${state.show.length} checked by hand` : "") +
    ", to keep the charts quick.";
  byId("run-cap-all").textContent = `Draw all ${v.matching.length.toLocaleString()}`;
}

function renderRunList() {
  const { error } = currentView();
  byId("run-filter").classList.toggle("invalid", Boolean(error));
  byId("run-filter-error").textContent = error;
  renderRows();
  renderCapNote();
}

export function toggleRun(name, on) {
  const v = currentView();
  const hide = state.hide.filter((run) => run !== name);
  const show = state.show.filter((run) => run !== name);
  if (!on) hide.push(name);
  else if (v.capped && !v.first.has(name)) show.push(name);
  update({ hide, show });
}

export const drawAll = () => update({ all: true, hide: [], show: [] });

/** None: uncheck every run (under the cap, the first runs are all that need hiding). */
export function drawNone() {
  const { matching } = currentView();
  if (matching.length > RUN_CAP) {
    update({ all: false, show: [], hide: matching.slice(0, RUN_CAP).map((run) => run.name) });
  } else {
    update({ hide: allRuns.map((run) => run.name), show: [] });
  }
}

/** Wire the filter box, the list's scrolling, All/None and the cap note; call once. */
export function initRunControls() {
  const filter = byId("run-filter");
  filter.value = state.runs;
  filter.addEventListener("input", () => update({ runs: filter.value }));
  let scrollQueued = false;
  byId("run-list").addEventListener("scroll", () => {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => {
      scrollQueued = false;
      renderRows();
    });
  });
  byId("runs-all").addEventListener("click", drawAll);
  byId("run-cap-all").addEventListener("click", drawAll);
  byId("runs-none").addEventListener("click", drawNone);
}

/** React to state changes that touch the run list. */
export function onRunStateChange(changed) {
  if (!["runs", "hide", "show", "all"].some((key) => changed.has(key))) return;
  view = null;
  const filter = byId("run-filter");
  if (filter.value !== state.runs) filter.value = state.runs;
  if (changed.has("runs")) byId("run-list").scrollTop = 0;
  renderRunList();
}

export { tagCount };
