// Rendered text (/api/text `html`) into the page, defense in depth: the server already
// renders Markdown with raw HTML off and only http/https/mailto links, and the page still
// rebuilds that HTML element by element from an allow-list instead of assigning innerHTML.
// The HTML is parsed in an inert document (DOMParser: no script runs, nothing loads); only
// listed elements and attributes are copied into fresh nodes, text stays text.

const ELEMENTS = new Set([
  "p", "em", "strong", "s", "del", "code", "pre", "ul", "ol", "li", "a", "blockquote", "hr",
  "br", "table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "h5", "h6",
]);
// Elements whose content is not text to show: dropped with everything inside.
const DROP = new Set([
  "script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math",
  "frame", "frameset", "head", "title", "link", "meta", "base", "form", "textarea", "select",
]);
const SCHEMES = new Set(["http:", "https:", "mailto:"]);
const ALIGN = /^\s*text-align:\s*(left|right|center)\s*;?\s*$/i;

/** The URL if it is absolute http, https or mailto; otherwise null. */
export function safeUrl(href) {
  if (typeof href !== "string") return null;
  let url;
  try {
    url = new URL(href.trim()); // no base: a relative URL (or "javascript :") fails here
  } catch {
    return null;
  }
  return SCHEMES.has(url.protocol) ? url.href : null;
}

function link(href, children) {
  const url = safeUrl(href);
  if (!url) return children; // not a safe link: keep its text only
  const a = document.createElement("a");
  a.href = url;
  a.rel = "noopener noreferrer nofollow";
  a.target = "_blank";
  a.append(...children);
  return [a];
}

/** Copy `source`'s allowed content into new nodes of this document; returns a node list. */
function rebuild(source) {
  if (source.nodeType === Node.TEXT_NODE) return [document.createTextNode(source.data)];
  if (source.nodeType !== Node.ELEMENT_NODE) return []; // comments, processing instructions
  const name = source.localName;
  if (DROP.has(name) || source.namespaceURI !== "http://www.w3.org/1999/xhtml") return [];
  const children = [...source.childNodes].flatMap(rebuild);
  if (name === "img") {
    // Markdown images point off-site, which the page's CSP does not load: a link instead.
    const alt = document.createTextNode(source.getAttribute("alt") || "image");
    return link(source.getAttribute("src"), [alt]);
  }
  if (name === "a") return link(source.getAttribute("href"), children);
  if (!ELEMENTS.has(name)) return children; // unknown wrapper: keep its text
  const node = document.createElement(name);
  if (name === "ol") {
    const start = Number.parseInt(source.getAttribute("start") ?? "", 10);
    if (Number.isFinite(start)) node.start = start;
  }
  if (name === "code" || name === "table") {
    const cls = source.getAttribute("class") ?? "";
    if (/^(language-[\w+-]+|text-table)$/.test(cls)) node.className = cls;
  }
  if (name === "th" || name === "td") {
    const align = ALIGN.exec(source.getAttribute("style") ?? "");
    if (align) node.style.textAlign = align[1].toLowerCase();
  }
  node.append(...children);
  return [node];
}

/** A DocumentFragment holding the allowed part of `html`. */
export function safeFragment(html) {
  const parsed = new DOMParser().parseFromString(String(html ?? ""), "text/html");
  const fragment = document.createDocumentFragment();
  fragment.append(...[...parsed.body.childNodes].flatMap(rebuild));
  return fragment;
}
