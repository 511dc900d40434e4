// View state kept in the URL hash (so reload and sharing keep the view):
//   #tab=scalars&smoothing=0.6&x=step&logy=1&tags=loss&runs=^train&hide=eval
//    &hist=offset&actual=1&grun=train&expand=layer1&expand=layer1/conv
//    &pin=loss&cardw=640&outliers=loss&tsort=nearest&chart=^loss/&range=0.01~0.1~hparam:lr
// (pin: pinned cards; cardw: card width in px; outliers: cards whose y range shows outliers;
// tsort: tooltip order; chart: one custom chart per tag regex; range: a Runs table filter,
// min~max~column, see runs_filter.js.)
// Deselected runs are stored (hide=…), so runs that appear later start visible. With more
// runs matching than runs.js draws by default, show=… lists runs checked beyond that first
// few, and all=1 lifts the cap.

const DEFAULTS = Object.freeze({
  tab: "scalars",
  smoothing: 0.6,
  x: "step",
  logy: false,
  tags: "",
  runs: "",
  hide: [],
  show: [],
  all: false,
  hist: "offset",
  actual: false,
  grun: "",
  expand: [],
  pin: [],
  cardw: 0,
  outliers: [],
  tsort: "value",
  chart: [],
  range: [],
});

const TABS = ["scalars", "images", "histograms", "text", "graphs", "runs"];
const XAXES = ["step", "relative", "wall"];
const HISTMODES = ["offset", "distribution"];
const TOOLTIP_SORTS = ["value", "nearest", "name"];
export const CARD_WIDTH = Object.freeze({ min: 320, max: 1400 });

/** Parse a location hash into a full state object (unknown values fall back to defaults). */
export function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const state = { ...DEFAULTS, hide: [], show: [], expand: [], pin: [], outliers: [], chart: [],
    range: [] };
  const tab = params.get("tab");
  if (TABS.includes(tab)) state.tab = tab;
  const smoothing = Number.parseFloat(params.get("smoothing"));
  if (Number.isFinite(smoothing)) state.smoothing = Math.min(0.999, Math.max(0, smoothing));
  if (XAXES.includes(params.get("x"))) state.x = params.get("x");
  state.logy = params.get("logy") === "1";
  state.tags = params.get("tags") ?? "";
  state.runs = params.get("runs") ?? "";
  state.hide = params.getAll("hide");
  state.show = params.getAll("show");
  state.all = params.get("all") === "1";
  if (HISTMODES.includes(params.get("hist"))) state.hist = params.get("hist");
  state.actual = params.get("actual") === "1";
  state.grun = params.get("grun") ?? "";
  state.expand = params.getAll("expand");
  state.pin = params.getAll("pin");
  const cardw = Number.parseInt(params.get("cardw"), 10);
  if (Number.isFinite(cardw)) {
    state.cardw = Math.min(CARD_WIDTH.max, Math.max(CARD_WIDTH.min, cardw));
  }
  state.outliers = params.getAll("outliers");
  if (TOOLTIP_SORTS.includes(params.get("tsort"))) state.tsort = params.get("tsort");
  state.chart = params.getAll("chart").filter(Boolean);
  state.range = params.getAll("range").filter(Boolean);
  return state;
}

/** Serialize state to a hash, leaving out values equal to the defaults. */
export function toHash(state) {
  const params = new URLSearchParams();
  if (state.tab !== DEFAULTS.tab) params.set("tab", state.tab);
  if (state.smoothing !== DEFAULTS.smoothing) params.set("smoothing", String(state.smoothing));
  if (state.x !== DEFAULTS.x) params.set("x", state.x);
  if (state.logy) params.set("logy", "1");
  if (state.tags) params.set("tags", state.tags);
  if (state.runs) params.set("runs", state.runs);
  for (const run of state.hide) params.append("hide", run);
  for (const run of state.show) params.append("show", run);
  if (state.all) params.set("all", "1");
  if (state.hist !== DEFAULTS.hist) params.set("hist", state.hist);
  if (state.actual) params.set("actual", "1");
  if (state.grun) params.set("grun", state.grun);
  for (const scope of state.expand) params.append("expand", scope);
  for (const tag of state.pin) params.append("pin", tag);
  if (state.cardw) params.set("cardw", String(state.cardw));
  for (const tag of state.outliers) params.append("outliers", tag);
  if (state.tsort !== DEFAULTS.tsort) params.set("tsort", state.tsort);
  for (const pattern of state.chart) params.append("chart", pattern);
  for (const range of state.range) params.append("range", range);
  const text = params.toString();
  return text ? `#${text}` : "";
}

const listeners = new Set();

/** The live state; change it only through update(). */
export const state = parseHash(window.location.hash);

/** Apply a partial change, write the URL (replaceState: no history spam) and notify. */
export function update(patch) {
  const changed = Object.keys(patch).filter(
    (key) => JSON.stringify(state[key]) !== JSON.stringify(patch[key]),
  );
  if (!changed.length) return;
  Object.assign(state, patch);
  const url = `${window.location.pathname}${window.location.search}${toHash(state)}`;
  window.history.replaceState(null, "", url);
  for (const fn of listeners) fn(new Set(changed));
}

/** Subscribe to state changes; fn receives the Set of changed keys. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

window.addEventListener("hashchange", () => {
  const next = parseHash(window.location.hash);
  const changed = Object.keys(next).filter(
    (key) => JSON.stringify(state[key]) !== JSON.stringify(next[key]),
  );
  if (!changed.length) return;
  Object.assign(state, next);
  for (const fn of listeners) fn(new Set(changed));
});
