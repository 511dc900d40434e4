// The board's HTTP API (SPEC §5). Every request goes to the page's own origin, by paths
// relative to the page, so the board also works behind a proxy under a path prefix.

/** Error from the board: carries the HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let inFlight = 0;
const inFlightListeners = new Set();

/** Subscribe to the number of requests in flight (drives the loading bar). */
export function onInFlight(fn) {
  inFlightListeners.add(fn);
}

function setInFlight(delta) {
  inFlight += delta;
  for (const fn of inFlightListeners) fn(inFlight);
}

/**
 * Build a same-origin URL for a path and query parameters (undefined values are left out;
 * an array repeats its parameter).
 */
export function apiUrl(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null || item === "") continue;
      query.append(key, String(item));
    }
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function getJson(path, params, { signal } = {}) {
  setInFlight(1);
  try {
    const response = await fetch(apiUrl(path, params), { signal, credentials: "same-origin" });
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try {
        const body = await response.json();
        if (body?.error?.message) message = body.error.message;
      } catch {
        // not a JSON error body; keep the status line
      }
      throw new ApiError(response.status, message);
    }
    return await response.json();
  } finally {
    setInFlight(-1);
  }
}

/**
 * GET /api/runs?compact=1 → {runs: [{name, tags: {scalars, images, histograms}, has_graph,
 * corrupt_records}], loading, …}: each run's `tag_set` index is resolved to its tags (runs
 * with the same tags share one object).
 */
export async function fetchRuns(opts) {
  const body = await getJson("api/runs", { compact: 1 }, opts);
  const sets = body.tag_sets ?? [];
  for (const run of body.runs ?? []) run.tags = sets[run.tag_set] ?? {};
  return body;
}

/** GET /api/scalars → {run, tag, total_points, step, wall_time, value[, smoothed]}. */
export function fetchScalars(run, tag, { maxPoints, xMin, xMax, smoothing, signal } = {}) {
  return getJson(
    "api/scalars",
    { run, tag, max_points: maxPoints, x_min: xMin, x_max: xMax, smoothing },
    { signal },
  );
}

/** GET /api/scalars/multi → {tag, series: [/api/scalars body per run, in the order asked]}. */
export function fetchScalarsMulti(runs, tag, { maxPoints, smoothing, signal } = {}) {
  return getJson(
    "api/scalars/multi",
    { tag, run: runs, max_points: maxPoints, smoothing },
    { signal },
  );
}

/** Link for a full-series download of one (run, tag) as csv or json. */
export function scalarsDownloadUrl(run, tag, format) {
  return apiUrl("api/scalars", { run, tag, format });
}

/** GET /api/images → {run, tag, steps: [{step, wall_time, samples: [{index, width, height}]}]} */
export const fetchImages = (run, tag, opts) => getJson("api/images", { run, tag }, opts);

/** URL of one encoded image. */
export function imageUrl(run, tag, step, index) {
  return apiUrl("api/image", { run, tag, step, index });
}

/** GET /api/histograms → {steps: [{step, wall_time, min, max, bucket_limits, bucket_counts}]}. */
export const fetchHistograms = (run, tag, opts) =>
  getJson("api/histograms", { run, tag }, opts);

/** GET /api/text → {run, tag, steps: [{step, wall_time, shape, html, notes}]}. */
export const fetchText = (run, tag, opts) => getJson("api/text", { run, tag }, opts);
/** GET /api/runs/table → {runs: [{name, hparams, metrics, last_wall_time, …}], columns, …}. */
export const fetchRunsTable = (opts) => getJson("api/runs/table", {}, opts);

/** GET /api/graph → {run, nodes: [...], edges: [...]}. */
export function fetchGraph(run, expand, opts) {
  return getJson("api/graph", { run, expand: expand.join(",") }, opts);
}

/** GET /api/graph/run_metadata → {run, tag, step, total_micros, nodes: [{name,
 * compute_micros, memory_bytes, executions}]}: one traced Session.run. */
export function fetchRunMetadata(run, tag, opts) {
  return getJson("api/graph/run_metadata", { run, tag }, opts);
}

/**
 * Subscribe to /api/stream (server-sent events). onMessage gets {run, plugin, tag, step}.
 * EventSource reconnects by itself; onStatus reports "live" / "reconnecting".
 */
export function openStream(onMessage, onStatus = () => {}) {
  const source = new EventSource("api/stream");
  source.onopen = () => onStatus("live");
  source.onerror = () => onStatus("reconnecting");
  source.onmessage = (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // keep-alive or malformed line: nothing to update
    }
    if (data && typeof data === "object") onMessage(data);
  };
  return source;
}
