// What the per-(run, tag) cards of the Images, Histograms and Text tabs share: a card loads when it
// is first on screen, and a burst of new steps while a load is running costs one more load,
// not many. A LiveCard subclass sets `element` and implements fetchAndRender(); a CardSet
// keeps one tab's cards in step with the runs and the tag filter.

import { runColor } from "./colors.js";
import { el } from "./dom.js";
import { visibleRuns } from "./runs.js";
import { state } from "./state.js";
import { groupOf, layoutGroups, naturalCompare, runsWithTag, tagsOf } from "./tags.js";

export class LiveCard {
  constructor(run, tag) {
    this.run = run;
    this.tag = tag;
    this.steps = [];
    this.shown = false;
    this.gen = 0; // bumped per fetch, so a slow stale answer never overwrites a newer one
  }

  swatch() {
    const swatch = el("span", { class: "run-swatch", "aria-hidden": "true" });
    swatch.style.background = runColor(this.run);
    return swatch;
  }

  show() {
    if (this.shown) return;
    this.shown = true;
    this.load();
  }

  refresh() {
    if (!this.shown) return;
    if (this.loading) this.again = true; // coalesce bursts of new steps
    else this.load();
  }

  /**
   * For cards with a step slider (images, text): fetch the steps (`fetchSteps()` answers
   * {steps}), keep the slider on the newest step unless it was moved back, then render().
   */
  async loadSteps(fetchSteps, what, slider) {
    const gen = ++this.gen;
    this.element.dataset.state = "loading";
    try {
      const data = await fetchSteps();
      if (gen !== this.gen) return;
      this.steps = data.steps ?? [];
    } catch (err) {
      if (gen !== this.gen) return;
      this.meta.textContent = `Could not load ${what}: ${err.message}`;
      this.element.dataset.state = "error";
      return;
    }
    const last = this.steps.length - 1;
    if (this.follow || this.stepIndex > last) this.stepIndex = last;
    slider.max = String(Math.max(0, last));
    slider.value = String(Math.max(0, this.stepIndex));
    slider.disabled = this.steps.length < 2;
    this.render();
  }

  async load() {
    this.loading = true;
    try {
      await this.fetchAndRender();
    } finally {
      this.loading = false;
      if (this.again) {
        this.again = false;
        setTimeout(() => this.refresh(), 300);
      }
    }
  }
}

const SEP = "\u0000";

/** The cards of one tab, one per (run, tag) of `plugin`, each loading when first on screen. */
export class CardSet {
  constructor(plugin, makeCard, onRemove = () => {}) {
    this.plugin = plugin;
    this.makeCard = makeCard;
    this.onRemove = onRemove;
    this.cards = new Map(); // `${tag}${SEP}${run}` -> card
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (!entry.isIntersecting) continue;
          this.cards.get(entry.target.dataset.key)?.show();
          this.observer.unobserve(entry.target);
        }
      },
      { rootMargin: "300px 0px" },
    );
  }

  /** (Re)build the cards for the visible runs and the tag filter; returns how many. */
  render(root, layoutOptions) {
    const runs = visibleRuns();
    const keys = [];
    for (const tag of tagsOf(runs, this.plugin, state.tags)) {
      for (const run of runsWithTag(runs, this.plugin, tag)) keys.push(`${tag}${SEP}${run}`);
    }
    const order = new Map(runs.map((run, i) => [run.name, i]));
    keys.sort((a, b) => {
      const [tagA, runA] = a.split(SEP);
      const [tagB, runB] = b.split(SEP);
      return naturalCompare(tagA, tagB) || order.get(runA) - order.get(runB);
    });
    const wanted = new Set(keys);
    for (const [key, card] of this.cards) {
      if (wanted.has(key)) continue;
      this.onRemove(card);
      card.element.remove();
      this.cards.delete(key);
    }
    for (const key of keys) {
      if (this.cards.has(key)) continue;
      const [tag, run] = key.split(SEP);
      const card = this.makeCard(run, tag);
      card.element.dataset.key = key;
      this.cards.set(key, card);
      this.observer.observe(card.element);
    }
    const element = (key) => this.cards.get(key).element;
    layoutGroups(root, keys, (key) => groupOf(key.split(SEP)[0]), element, layoutOptions);
    return keys.length;
  }

  get(run, tag) {
    return this.cards.get(`${tag}${SEP}${run}`);
  }

  values() {
    return this.cards.values();
  }
}
