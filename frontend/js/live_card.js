// What the per-(run, tag) cards of the Images and Histograms tabs share: they load when first
// shown, and a burst of new steps while a load is running costs one more load, not many.
// A subclass sets run, tag and element, and implements fetchAndRender().

import { runColor } from "./colors.js";
import { el } from "./dom.js";

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
