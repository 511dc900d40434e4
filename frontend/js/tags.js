// Tag lists across runs: union, regex filter, and TensorBoard's grouping by the prefix
// before the first "/" (categorizeByPrefix: a tag without "/" is its own group).

import { clear, compileFilter, el } from "./dom.js";

/** Sorted union of the tags of `kind` over `runs`, filtered by the tag regex. */
export function tagsOf(runs, kind, pattern) {
  const { re } = compileFilter(pattern);
  const tags = new Set();
  for (const run of runs) {
    for (const tag of run.tags?.[kind] ?? []) {
      if (!re || re.test(tag)) tags.add(tag);
    }
  }
  return [...tags].sort(naturalCompare);
}

/** Names of the runs among `runs` that hold `tag` of `kind`. */
export function runsWithTag(runs, kind, tag) {
  return runs.filter((run) => run.tags?.[kind]?.includes(tag)).map((run) => run.name);
}

/** Group prefix of a tag. */
export function groupOf(tag) {
  const cut = tag.indexOf("/");
  return cut < 0 ? tag : tag.slice(0, cut);
}

const COLLATOR = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Compare strings with embedded numbers in numeric order ("layer2" < "layer10"). */
export function naturalCompare(a, b) {
  return COLLATOR.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Keep a container's <details> groups in sync with `keys` (ordered card keys) and
 * `groupOfKey`. Existing card elements (from `cardFor(key)`) are moved, not rebuilt,
 * so their plots and sliders survive. Groups remember whether the user closed them.
 */
export function layoutGroups(container, keys, groupOfKey, cardFor, { wide = false } = {}) {
  const signature = keys.join("\n");
  if (container.dataset.layout === signature && container.childElementCount) return;
  container.dataset.layout = signature;
  const open = new Map();
  for (const details of container.querySelectorAll(":scope > details.group")) {
    open.set(details.dataset.group, details.open);
  }
  const groups = new Map();
  for (const key of keys) {
    const name = groupOfKey(key);
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(key);
  }
  const fragment = document.createDocumentFragment();
  for (const name of [...groups.keys()].sort(naturalCompare)) {
    const members = groups.get(name);
    const grid = el("div", { class: wide ? "cards wide" : "cards" });
    for (const key of members) grid.append(cardFor(key));
    const details = el(
      "details",
      { class: "group", dataset: { group: name } },
      el(
        "summary",
        {},
        el("span", { text: name }),
        el("span", { class: "group-count", text: String(members.length) }),
      ),
      grid,
    );
    details.open = open.get(name) ?? true;
    fragment.append(details);
  }
  clear(container);
  container.append(fragment);
}
