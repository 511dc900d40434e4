// Sidebar settings bound to the URL state: smoothing, x-axis, log-y, tag filter,
// actual image size and the histogram view.

import { byId, compileFilter } from "./dom.js";
import { state, update } from "./state.js";

function radios(name) {
  return [...document.querySelectorAll(`input[name="${name}"]`)];
}

function showSmoothing(value) {
  byId("smoothing-value").textContent = Number(value).toFixed(3).replace(/0$/, "");
}

function showTagFilterError() {
  const { error } = compileFilter(state.tags);
  byId("tag-filter").classList.toggle("invalid", Boolean(error));
  byId("tag-filter-error").textContent = error;
}

/** Put the state into the controls and listen to them; call once. */
export function initSettings() {
  const smoothing = byId("smoothing");
  smoothing.addEventListener("input", () => {
    showSmoothing(smoothing.value);
    update({ smoothing: Number(smoothing.value) });
  });
  for (const input of radios("xaxis")) {
    input.addEventListener("change", () => input.checked && update({ x: input.value }));
  }
  for (const input of radios("histmode")) {
    input.addEventListener("change", () => input.checked && update({ hist: input.value }));
  }
  byId("logy").addEventListener("change", (e) => update({ logy: e.target.checked }));
  byId("actual-size").addEventListener("change", (e) => update({ actual: e.target.checked }));
  byId("tag-filter").addEventListener("input", (e) => update({ tags: e.target.value }));
  syncSettings(new Set(Object.keys(state)));
}

/** Reflect state changes (e.g. from the URL) in the controls. */
export function syncSettings(changed) {
  if (changed.has("smoothing")) {
    const smoothing = byId("smoothing");
    if (Number(smoothing.value) !== state.smoothing) smoothing.value = String(state.smoothing);
    showSmoothing(state.smoothing);
  }
  if (changed.has("x")) for (const r of radios("xaxis")) r.checked = r.value === state.x;
  if (changed.has("hist")) for (const r of radios("histmode")) r.checked = r.value === state.hist;
  if (changed.has("logy")) byId("logy").checked = state.logy;
  if (changed.has("actual")) byId("actual-size").checked = state.actual;
  if (changed.has("tags")) {
    const input = byId("tag-filter");
    if (input.value !== state.tags) input.value = state.tags;
    showTagFilterError();
  }
}
