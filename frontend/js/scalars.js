// The Scalars tab: one card per tag (grouped by prefix) overlaying every visible run,
// loaded lazily as cards scroll into view, updated live from the stream.

import { placePinned } from "./card_tools.js";
import { debounce } from "./dom.js";
import { visibleRuns } from "./runs.js";
import { ScalarCard } from "./scalar_card.js";
import { state, subscribe } from "./state.js";
import { groupOf, layoutGroups, runsWithTag, tagsOf } from "./tags.js";

const PREFETCH = 600; // px below and above the viewport loaded once the visible cards are drawn
const cards = new Map(); // tag -> ScalarCard
const near = new Set(); // cards close to the viewport, waiting for the visible ones to draw
let container = null;
let firstDrawAt = null;

const cardOf = (target) => cards.get(target.closest(".scalar-card")?.dataset.tag);

// A card loads as soon as its chart area is on screen, and those near the screen load once
// every card on screen is drawn: the charts the user sees come first, scrolling finds the
// next ones ready.
const visibleObserver = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (entry.isIntersecting) cardOf(entry.target)?.show();
  }
});
const nearObserver = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const card = cardOf(entry.target);
      if (card && entry.isIntersecting && !card.shown) near.add(card);
      else if (card) near.delete(card);
    }
    prefetch();
  },
  { rootMargin: `${PREFETCH}px 0px` },
);

function observe(card) {
  visibleObserver.observe(card.plot);
  nearObserver.observe(card.plot);
}

function unobserve(card) {
  visibleObserver.unobserve(card.plot);
  nearObserver.unobserve(card.plot);
  near.delete(card);
}

/** Whether some card that started loading is not drawn yet. */
function busy() {
  return [...cards.values()].some((card) => card.shown && card.element.dataset.state !== "drawn");
}

function prefetch() {
  if (!near.size || busy()) return;
  for (const card of near) card.show();
  near.clear();
}

function onDrawn(card) {
  unobserve(card);
  // The view counts as drawn when every card that has started loading is drawn.
  if (busy()) return;
  container.dataset.ready = "1";
  if (firstDrawAt === null) {
    firstDrawAt = performance.now();
    container.dataset.firstDrawMs = String(Math.round(firstDrawAt));
  }
  prefetch();
}

/** (Re)build the card list for the current runs, filters and tags. */
export function renderScalars(root) {
  container = root;
  const runs = visibleRuns();
  const tags = tagsOf(runs, "scalars", state.tags);
  // a pinned card stays in the Pinned section while the tag filter hides it from its group
  const pinnedOnly = tags.length === tagsOf(runs, "scalars", "").length ? [] :
    state.pin.filter((tag) => !tags.includes(tag) && runsWithTag(runs, "scalars", tag).length);
  const kept = [...tags, ...pinnedOnly];
  for (const [tag, card] of cards) {
    if (!kept.includes(tag)) {
      unobserve(card);
      card.destroy();
      cards.delete(tag);
    }
  }
  for (const tag of kept) {
    if (!cards.has(tag)) {
      const card = new ScalarCard(tag, { onDrawn });
      cards.set(tag, card);
      observe(card);
    }
    cards.get(tag).setRuns(runsWithTag(runs, "scalars", tag));
  }
  layoutGroups(root, tags, groupOf, (tag) => cards.get(tag).element);
  placePinned(root, (tag) => cards.get(tag)?.element);
  showCardsOnScreen(root);
  if (!kept.length) delete root.dataset.ready;
  return kept.length;
}

// Pinning or unpinning may add or drop a card the tag filter hides.
subscribe((changed) => {
  if (changed.has("pin") && container && !container.hidden) renderScalars(container);
});

/**
 * Load the cards on screen now rather than when the observer next reports (a frame
 * later): their requests then leave before plotly.js starts up (app.js).
 */
function showCardsOnScreen(root) {
  if (root.hidden) return;
  for (const card of cards.values()) {
    if (card.shown) continue;
    const box = card.plot.getBoundingClientRect();
    if (box.bottom > 0 && box.top < window.innerHeight && box.height > 0) card.show();
  }
}

/** A stream message for a scalar tag. */
export function onScalarData(message) {
  cards.get(message.tag)?.refresh(message.run);
}

const refetchSmoothing = debounce(() => {
  for (const card of cards.values()) card.refetchSmoothing();
}, 250);

/** React to settings changes without rebuilding the cards. */
export function onScalarSettings(changed) {
  if (changed.has("x") || changed.has("logy")) {
    for (const card of cards.values()) card.axesChanged();
  }
  if (changed.has("smoothing")) {
    for (const card of cards.values()) card.smoothingChanged();
    refetchSmoothing();
  }
}

/** Redraw every chart (theme change). */
export function redrawScalars() {
  for (const card of cards.values()) card.queueDraw();
}

/** Re-fetch every card on screen (the reload button; the stream normally does this). */
export function reloadScalars() {
  for (const card of cards.values()) for (const run of card.runs) card.refresh(run);
}
