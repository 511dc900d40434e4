// Small DOM helpers. Text always goes through textContent: names from event files
// (runs, tags, node names, attrs) are data, never markup.

/** Create an element: el("div", {class: "card", "aria-label": t}, child, "text", ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an SVG element with attributes and children (strings become text nodes). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Remove every child of a node. */
export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

/** Look up an element by id, failing loudly if the page markup lost it. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`element #${id} is missing from index.html`);
  return node;
}

/** Compile a user-typed regex; returns {re, error}. An empty pattern matches all. */
export function compileFilter(pattern) {
  if (!pattern) return { re: null, error: "" };
  try {
    return { re: new RegExp(pattern, "i"), error: "" };
  } catch (err) {
    return { re: null, error: `Invalid regex ${JSON.stringify(pattern)}: ${err.message}` };
  }
}

/** Call fn at most once per `ms`, always running the last call. */
export function throttle(fn, ms) {
  let timer = null;
  let pending = false;
  let lastRun = 0;
  return function throttled() {
    pending = true;
    if (timer) return;
    const wait = Math.max(0, lastRun + ms - Date.now());
    timer = setTimeout(() => {
      timer = null;
      if (!pending) return;
      pending = false;
      lastRun = Date.now();
      fn();
    }, wait);
  };
}

/** Call fn once `ms` after the last call. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Read a CSS custom property from :root (theme colors for plots and SVG). */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
