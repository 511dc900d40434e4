// The Scalars tab: one card per tag (grouped by prefix) overlaying every visible run,
// loaded lazily as cards scroll into view, updated live from the stream.

import { debounce } from "./dom.js";
import { visibleRuns } from "./runs.js";
import { ScalarCard } from "./scalar_card.js";
import { state } from "./state.js";
import { groupOf, layoutGroups, runsWithTag, tagsOf } from "./tags.js";

const MARGIN = 150; // px beyond the viewport that count as on screen
const cards = new Map(); // tag -> ScalarCard
let container = null;
let firstDrawAt = null;

const observer = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const card = cards.get(entry.target.dataset.tag);
      if (card) card.show();
      observer.unobserve(entry.target);
    }
  },
  { rootMargin: `${MARGIN}px 0px` },
);

function onDrawn() {
  // The view counts as drawn when every card that has started loading is drawn.
  const started = [...cards.values()].filter((card) => card.shown);
  const drawn = started.filter((card) => card.element.dataset.state === "drawn");
  if (started.length && drawn.length === started.length) {
    container.dataset.ready = "1";
    if (firstDrawAt === null) {
      firstDrawAt = performance.now();
      container.dataset.firstDrawMs = String(Math.round(firstDrawAt));
    }
  }
}

/** (Re)build the card list for the current runs, filters and tags. */
export function renderScalars(root) {
  container = root;
  const runs = visibleRuns();
  const tags = tagsOf(runs, "scalars", state.tags);
  for (const [tag, card] of cards) {
    if (!tags.includes(tag)) {
      card.destroy();
      cards.delete(tag);
    }
  }
  for (const tag of tags) {
    if (!cards.has(tag)) {
      const card = new ScalarCard(tag, { onDrawn });
      cards.set(tag, card);
      observer.observe(card.element);
    }
    cards.get(tag).setRuns(runsWithTag(runs, "scalars", tag));
  }
  layoutGroups(root, tags, groupOf, (tag) => cards.get(tag).element);
  showCardsOnScreen(root);
  if (!tags.length) delete root.dataset.ready;
  return tags.length;
}

/**
 * Load the cards on screen now rather than when the observer next reports (a frame
 * later): their requests then leave before plotly.js starts up (app.js).
 */
function showCardsOnScreen(root) {
  if (root.hidden) return;
  const bottom = window.innerHeight + MARGIN;
  for (const card of cards.values()) {
    if (card.shown) continue;
    const box = card.element.getBoundingClientRect();
    if (box.bottom >= -MARGIN && box.top <= bottom && box.height > 0) card.show();
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
