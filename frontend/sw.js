// The page's service worker: keeps the content-hashed static files (h/<digest>/…, answered
// `immutable` by the board) in CacheStorage, so a repeat visit runs plotly.js from code V8
// compiled when they were stored here (Chrome compiles scripts cached at install time at
// once; from the HTTP cache only on the third visit).
// Nothing else passes through it: the page itself, the API and the event stream always go
// to the board, so no data is ever served from here. A hashed URL names one content, so a
// cached answer can never be stale; the files of other digests are dropped when a new
// worker activates. js/static_cache.js registers it as sw.js?v=<digests>: a new frontend or
// plotly is a new worker script, installed with the new files.

const CACHE = "numboard-static";
const HASHED = new URL("h/", self.registration.scope).href;
const REFERENCE = /\b(?:href|src)="(h\/[^"]+)"/g;

/** The hashed URLs the page names (index.html as the board serves it now). */
async function pageFiles() {
  const response = await fetch(self.registration.scope, { cache: "no-cache" });
  if (!response.ok) return [];
  const html = await response.text();
  const urls = Array.from(html.matchAll(REFERENCE), (m) => new URL(m[1], self.registration.scope));
  return [...new Set(urls.map((url) => url.href))];
}

function immutable(response) {
  return response.ok && /\bimmutable\b/.test(response.headers.get("Cache-Control") ?? "");
}

async function store(urls) {
  const cache = await caches.open(CACHE);
  await Promise.all(
    urls.map(async (url) => {
      if (await cache.match(url)) return;
      const response = await fetch(url);
      if (immutable(response)) await cache.put(url, response);
    }),
  );
  return urls;
}

let current = [];

/**
 * Chrome's static routes: hashed files straight from the cache (the network on a miss),
 * everything else straight to the network, without starting this worker for each request.
 */
function addRoutes(event) {
  if (typeof event.addRoutes !== "function" || typeof URLPattern === "undefined") return;
  const hashed = new URLPattern({ pathname: `${new URL(HASHED).pathname}*` });
  event.addRoutes([
    { condition: { urlPattern: hashed, requestMethod: "GET" }, source: { cacheName: CACHE } },
    { condition: { not: { urlPattern: hashed } }, source: "network" },
  ]).catch(() => {}); // routes this browser does not know: the fetch handler does it all
}

self.addEventListener("install", (event) => {
  addRoutes(event);
  event.waitUntil(
    pageFiles()
      .then(store)
      .then((urls) => {
        current = urls;
      })
      .catch(() => {}) // the board unreachable now: files are cached as they are asked for
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      if (!current.length) return;
      const keep = new Set(current);
      const cache = await caches.open(CACHE);
      for (const request of await cache.keys()) {
        if (!keep.has(request.url)) await cache.delete(request);
      }
    })(),
  );
});

async function answer(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (immutable(response)) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || !request.url.startsWith(HASHED)) return; // to the board
  event.respondWith(answer(request));
});
