// The run list in the sidebar: checkbox, color swatch and name per run, a regex filter,
// All/None. A run is shown in the views when it is checked and matches the filter.

import { assignColors, runColor } from "./colors.js";
import { byId, clear, compileFilter, el } from "./dom.js";
import { state, update } from "./state.js";

let allRuns = [];

/** Replace the known runs (from /api/runs) and redraw the list. */
export function setRuns(runs) {
  const signature = (list) =>
    list.map((run) => `${run.name}\u0000${run.corrupt_records}`).join("\n");
  const same = allRuns.length && signature(allRuns) === signature(runs);
  allRuns = runs;
  assignColors(runs.map((run) => run.name));
  if (!same) renderRunList(); // live updates refetch the runs every second or so
}

/** Every run the board knows, as /api/runs returned them. */
export function knownRuns() {
  return allRuns;
}

/** Runs that are checked and match the run filter, in name order. */
export function visibleRuns() {
  const { re } = compileFilter(state.runs);
  const hidden = new Set(state.hide);
  return allRuns.filter((run) => !hidden.has(run.name) && (!re || re.test(run.name)));
}

/** Number of tags of a kind in a run ("scalars", "images", "histograms"). */
function tagCount(run, kind) {
  return run.tags?.[kind]?.length ?? 0;
}

function renderRunList() {
  const list = byId("run-list");
  const focusedName = document.activeElement?.closest?.("#run-list li")?.dataset.run;
  clear(list);
  const hidden = new Set(state.hide);
  for (const run of allRuns) {
    const box = el("input", {
      type: "checkbox",
      checked: !hidden.has(run.name),
      "aria-label": `Show run ${run.name}`,
    });
    box.addEventListener("change", () => toggleRun(run.name, box.checked));
    const swatch = el("span", { class: "run-swatch", "aria-hidden": "true" });
    swatch.style.background = runColor(run.name);
    const meta = [];
    if (run.corrupt_records) meta.push(`${run.corrupt_records} corrupt`);
    const item = el(
      "li",
      { dataset: { run: run.name }, title: run.name },
      el(
        "label",
        {},
        box,
        swatch,
        el("span", { class: "run-name", text: run.name }),
        meta.length ? el("span", { class: "run-meta", text: meta.join(" · ") }) : null,
      ),
    );
    list.append(item);
    if (run.name === focusedName) box.focus();
  }
  applyRunFilter();
  if (!allRuns.length) list.append(el("li", { class: "hint", text: "No runs yet." }));
}

function applyRunFilter() {
  const { re, error } = compileFilter(state.runs);
  byId("run-filter").classList.toggle("invalid", Boolean(error));
  byId("run-filter-error").textContent = error;
  for (const item of byId("run-list").querySelectorAll("li[data-run]")) {
    item.classList.toggle("filtered-out", Boolean(re) && !re.test(item.dataset.run));
  }
}

function toggleRun(name, on) {
  const hide = state.hide.filter((run) => run !== name);
  if (!on) hide.push(name);
  update({ hide });
}

/** Wire the filter box and All/None buttons; call once. */
export function initRunControls() {
  const filter = byId("run-filter");
  filter.value = state.runs;
  filter.addEventListener("input", () => update({ runs: filter.value }));
  byId("runs-all").addEventListener("click", () => update({ hide: [] }));
  byId("runs-none").addEventListener("click", () =>
    update({ hide: allRuns.map((run) => run.name) }),
  );
}

/** React to state changes that touch the run list. */
export function onRunStateChange(changed) {
  if (changed.has("runs")) {
    const filter = byId("run-filter");
    if (filter.value !== state.runs) filter.value = state.runs;
    applyRunFilter();
  }
  if (changed.has("hide")) {
    const hidden = new Set(state.hide);
    for (const item of byId("run-list").querySelectorAll("li[data-run]")) {
      item.querySelector("input").checked = !hidden.has(item.dataset.run);
    }
  }
}

export { tagCount };
