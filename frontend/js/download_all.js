// "Download selected": every point of the visible runs × the scalar tags that pass the tag
// filter, as one zip of CSVs or one JSON, built by the board (/api/scalars/export). The links
// are made when the menu opens, so they follow the current selection; runs and tags are left
// out of the URL when the selection is "all" of them.

import { apiUrl } from "./api.js";
import { byId, el } from "./dom.js";
import { knownRuns, visibleRuns } from "./runs.js";
import { state } from "./state.js";
import { tagsOf } from "./tags.js";

const LONG_URL = 16000; // longer request lines are refused by some proxies

/** The export URL for the current selection, and its size in runs and tags. */
export function exportLinks() {
  const runs = visibleRuns();
  const tags = tagsOf(runs, "scalars", state.tags);
  const params = {
    run: runs.length === knownRuns().length ? undefined : runs.map((run) => run.name),
    tag: state.tags ? tags : undefined,
  };
  return {
    runs: runs.length,
    tags: tags.length,
    zip: apiUrl("api/scalars/export", { ...params, format: "zip" }),
    json: apiUrl("api/scalars/export", { ...params, format: "json" }),
  };
}

function renderMenu() {
  const menu = byId("download-all-menu");
  const links = exportLinks();
  if (!links.runs || !links.tags) {
    menu.replaceChildren(el("li", { class: "hint", text: "Nothing selected: no scalar tag in the selected runs." }));
    return;
  }
  const items = [
    el("li", { class: "hint", text: `${links.runs} runs × ${links.tags} tags, every point` }),
    el("li", {}, el("a", { href: links.zip, download: "scalars.zip", text: "ZIP of CSVs" })),
    el("li", {}, el("a", { href: links.json, download: "scalars.json", text: "JSON" })),
  ];
  if (links.zip.length > LONG_URL) {
    items.push(el("li", { class: "hint error-text",
      text: "Very long selection: narrow it with the run or tag filter if the download fails." }));
  }
  menu.replaceChildren(...items);
}

/** Wire the toolbar's "Download selected" menu; call once. */
export function initDownloadAll() {
  const menu = byId("download-all");
  menu.addEventListener("toggle", () => menu.open && renderMenu());
}
