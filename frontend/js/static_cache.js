// Registers sw.js, which keeps the content-hashed static files in CacheStorage so that a
// repeat visit starts from plotly.js already compiled (see sw.js). Registered once the page
// has loaded, its requests are answered and it is idle: the worker's install (it reads the
// files again and has plotly.js compiled) then does not compete with the first screen.
// Pages on plain (unhashed) URLs and browsers without service workers (or an http:// origin
// other than localhost, where they are off) go on without it.

const HASHED_DIR = /\/h\/([^/]+)\//;
const RETRY_MS = 500;

/** The digests of the page's frontend and of plotly: a new one makes a new worker. */
function version() {
  const frontend = new URL(import.meta.url).pathname.match(HASHED_DIR)?.[1];
  const link = document.querySelector('link[rel="preload"][as="script"][href*="plotly"]');
  const plotly = link ? new URL(link.href).pathname.match(HASHED_DIR)?.[1] : "";
  return frontend ? `${frontend}.${plotly ?? ""}` : "";
}

/** Requests in flight (app.js keeps body[aria-busy]). */
const busy = () => document.body.getAttribute("aria-busy") !== "false";

/** Register the worker after the load event, when no request is in flight and the page is
 * idle; call once. */
export function registerStaticCache() {
  const v = version();
  if (!v || !("serviceWorker" in navigator)) return;
  const register = () => {
    if (busy()) return void setTimeout(whenQuiet, RETRY_MS);
    navigator.serviceWorker.register(`sw.js?v=${v}`).catch(() => {
      // refused (e.g. a browser setting): the HTTP cache still serves the files
    });
  };
  const whenQuiet = () => {
    if (busy()) setTimeout(whenQuiet, RETRY_MS);
    else requestIdleCallback(register, { timeout: 5000 });
  };
  if (document.readyState === "complete") whenQuiet();
  else window.addEventListener("load", whenQuiet, { once: true });
}
