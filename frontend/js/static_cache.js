// Registers sw.js, which keeps the content-hashed static files in CacheStorage so that a
// repeat visit starts from plotly.js already compiled (see sw.js). Registered a moment after
// the load event, when the page is idle: the worker's install (it reads the files again and
// compiles plotly.js) then does not compete with drawing the first screen.
// Pages on plain (unhashed) URLs and browsers without service workers (or an http:// origin
// other than localhost, where they are off) go on without it.

const HASHED_DIR = /\/h\/([^/]+)\//;
const AFTER_LOAD_MS = 1000;

/** The digests of the page's frontend and of plotly: a new one makes a new worker. */
function version() {
  const frontend = new URL(import.meta.url).pathname.match(HASHED_DIR)?.[1];
  const link = document.querySelector('link[rel="preload"][as="script"][href*="plotly"]');
  const plotly = link ? new URL(link.href).pathname.match(HASHED_DIR)?.[1] : "";
  return frontend ? `${frontend}.${plotly ?? ""}` : "";
}

/** Register the worker after the load event, when the page is idle; call once. */
export function registerStaticCache() {
  const v = version();
  if (!v || !("serviceWorker" in navigator)) return;
  const register = () => {
    navigator.serviceWorker.register(`sw.js?v=${v}`).catch(() => {
      // refused (e.g. a browser setting): the HTTP cache still serves the files
    });
  };
  const idle = () => requestIdleCallback(register, { timeout: 3000 });
  const whenIdle = () => setTimeout(idle, AFTER_LOAD_MS);
  if (document.readyState === "complete") whenIdle();
  else window.addEventListener("load", whenIdle, { once: true });
}
