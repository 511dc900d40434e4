// What a scalar card offers besides its chart: pin, ignore-outliers toggle and full screen
// in its head; the hover tooltip and the data table; card width (state.cardw) for the whole
// tab. scalar_card.js calls the three hooks (addCardTools when built, beforeDraw before each
// plotly.react, afterFirstDraw once plotly is on the plot); scalars.js calls placePinned
// after laying out the groups. Everything else happens here, on state changes.

import { attachTable, refreshTable, tableElement } from "./datatable.js";
import { byId, el } from "./dom.js";
import { icon } from "./icons.js";
import { applyOutlierRange, outliersButton } from "./outliers.js";
import { layoutPinned, pinButton } from "./pins.js";
import { plotlyReady } from "./plots.js";
import { CARD_WIDTH, state, subscribe, update } from "./state.js";
import { attachTooltip, hide as hideTooltip, quietHover } from "./tooltip.js";

const DEFAULT_WIDTH = 420;
const cards = new Map(); // card element -> {card, sync: [fn]}
let fullscreenCard = null;

// Plots follow their card's size (full screen, card width, moving into the Pinned section).
// A plot that is not displayed (a filtered-out card, a closed group) is left alone: plotly
// refuses to resize it.
const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const plot = entry.target;
    if (!plotlyReady() || !plot.data || !entry.contentRect.width || !plot.isConnected) continue;
    window.Plotly.Plots.resize(plot).catch(() => {}); // hidden again meanwhile: nothing to do
  }
});

function fullscreenButton(card) {
  const button = el("button", {
    type: "button",
    class: "card-tool fullscreen-toggle",
    "aria-label": `Full screen ${card.tag}`,
    title: "Full screen (Esc to leave)",
  }, icon("expand"));
  button.addEventListener("click", () => setFullscreen(fullscreenCard === card ? null : card));
  return button;
}

/** Show one card over the whole page (null: none). */
export function setFullscreen(card) {
  if (fullscreenCard) {
    fullscreenCard.element.classList.remove("fullscreen");
    fullscreenCard.element.querySelector(".fullscreen-toggle").setAttribute("aria-pressed", "false");
  }
  fullscreenCard = card;
  document.body.classList.toggle("has-fullscreen", Boolean(card));
  if (!card) return;
  card.element.classList.add("fullscreen");
  card.element.querySelector(".fullscreen-toggle").setAttribute("aria-pressed", "true");
  card.element.querySelector(".fullscreen-toggle").focus();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && fullscreenCard) setFullscreen(null);
});

/** Hook: the card was built. Adds the head buttons and the table element. */
export function addCardTools(card) {
  const pin = pinButton(card.tag);
  const outliers = outliersButton(card.tag);
  const head = card.element.querySelector(".card-head");
  head.append(
    el("div", { class: "card-tools" }, outliers.button, pin.button, fullscreenButton(card)),
  );
  card.table = tableElement();
  card.plot.after(card.table);
  cards.set(card.element, { card, sync: [pin.sync, outliers.sync] });
  resizer.observe(card.plot);
}

/**
 * Hook: before each draw. The y range the user zoomed to, else the outlier-free one of what
 * the x range shows; our tooltip instead of plotly's.
 */
export function beforeDraw(card, traces, layout) {
  if (card.yZoom) Object.assign(layout.yaxis, { range: card.yZoom, autorange: false });
  else applyOutlierRange(card.tag, traces, layout, card.xZoom());
  quietHover(traces, layout);
  if (card.tablePick) refreshTable(card);
}

/** Hook: plotly is on the card's plot; listen to hover, click and zoom. */
export function afterFirstDraw(card) {
  attachTooltip(card);
  attachTable(card);
}

/**
 * Hook: the groups are laid out; move pinned cards to the Pinned section. `elementFor(tag)`
 * is a tag's card (default: the one on the page).
 */
export function placePinned(root, elementFor = null) {
  const byTag = new Map();
  for (const [element, { card }] of cards) if (element.isConnected) byTag.set(card.tag, element);
  layoutPinned(root, elementFor ?? ((tag) => byTag.get(tag)));
}

function forget() {
  for (const [element, { card }] of cards) {
    if (!element.isConnected) {
      cards.delete(element);
      resizer.unobserve(card.plot);
      if (fullscreenCard === card) setFullscreen(null);
    }
  }
}

function applyCardWidth() {
  const width = state.cardw || DEFAULT_WIDTH;
  byId("main").style.setProperty("--card-min", `${width}px`);
  const input = byId("card-width");
  if (Number(input.value) !== width) input.value = String(width);
  byId("card-width-value").textContent = `${width}px`;
}

/** Wire the sidebar's card width and tooltip order controls; call once. */
export function initCardTools() {
  const input = byId("card-width");
  input.min = String(CARD_WIDTH.min);
  input.max = String(CARD_WIDTH.max);
  input.addEventListener("input", () => {
    const width = Number(input.value);
    update({ cardw: width === DEFAULT_WIDTH ? 0 : width });
  });
  const sort = byId("tooltip-sort");
  sort.value = state.tsort;
  sort.addEventListener("change", () => update({ tsort: sort.value }));
  applyCardWidth();
}

subscribe((changed) => {
  forget();
  if (changed.has("pin") || changed.has("outliers")) {
    for (const { sync } of cards.values()) for (const fn of sync) fn();
  }
  if (changed.has("pin")) placePinned(byId("view-scalars"));
  if (changed.has("outliers")) {
    for (const { card } of cards.values()) if (card.shown) card.queueDraw();
  }
  if (changed.has("cardw")) applyCardWidth();
  if (changed.has("tsort")) byId("tooltip-sort").value = state.tsort;
  if (changed.has("tab")) hideTooltip();
});
