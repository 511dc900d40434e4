// The Images tab: a card per (run, tag) showing the latest step by default, with a step
// slider over every stored step, a sample slider when a step holds several images, and
// live arrival of new steps (the slider follows the newest step unless moved back).

import { fetchImages, imageUrl } from "./api.js";
import { el } from "./dom.js";
import { CardSet, LiveCard } from "./live_card.js";
import { state } from "./state.js";

/** A wall time (seconds) as a short local date and time. */
export function formatTime(seconds) {
  return new Date(seconds * 1000).toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
}

class ImageCard extends LiveCard {
  constructor(run, tag) {
    super(run, tag);
    this.stepIndex = -1;
    this.sample = 0;
    this.follow = true;
    const swatch = this.swatch();
    this.img = el("img", { alt: "", decoding: "async" });
    this.meta = el("p", { class: "image-meta" });
    this.stepSlider = el("input", {
      type: "range",
      min: 0,
      max: 0,
      value: 0,
      "aria-label": `Step of ${tag} in ${run}`,
    });
    this.stepLabel = el("span", { text: "Step" });
    this.sampleSlider = el("input", {
      type: "range",
      min: 0,
      max: 0,
      value: 0,
      "aria-label": `Sample of ${tag} in ${run}`,
    });
    this.sampleLabel = el("span", { text: "Sample" });
    this.sampleRow = el(
      "label",
      { class: "slider-row", hidden: true },
      this.sampleLabel,
      this.sampleSlider,
    );
    this.stepSlider.addEventListener("input", () => {
      this.stepIndex = Number(this.stepSlider.value);
      this.follow = this.stepIndex === this.steps.length - 1;
      this.render();
    });
    this.sampleSlider.addEventListener("input", () => {
      this.sample = Number(this.sampleSlider.value);
      this.render();
    });
    this.element = el(
      "article",
      { class: "card image-card", dataset: { run, tag, state: "waiting" } },
      el("div", { class: "card-head" }, el("h3", { class: "card-title", text: tag })),
      el("div", { class: "card-sub" }, swatch, el("span", { text: run })),
      el("div", { class: "image-frame" }, this.img),
      this.meta,
      el("label", { class: "slider-row" }, this.stepLabel, this.stepSlider),
      this.sampleRow,
    );
  }

  fetchAndRender() {
    return this.loadSteps(() => fetchImages(this.run, this.tag), "images", this.stepSlider);
  }

  render() {
    const entry = this.steps[this.stepIndex];
    if (!entry) {
      this.meta.textContent = "No images yet.";
      this.element.dataset.state = "drawn";
      return;
    }
    const samples = entry.samples ?? [];
    this.sample = Math.min(this.sample, Math.max(0, samples.length - 1));
    this.sampleRow.hidden = samples.length < 2;
    this.sampleSlider.max = String(Math.max(0, samples.length - 1));
    this.sampleSlider.value = String(this.sample);
    this.sampleLabel.textContent = `Sample ${this.sample + 1}/${samples.length}`;
    const sample = samples[this.sample] ?? { index: 0 };
    const src = imageUrl(this.run, this.tag, entry.step, sample.index);
    if (this.img.getAttribute("src") !== src) {
      this.img.src = src;
      this.img.alt = `${this.tag} (${this.run}) at step ${entry.step}`;
    }
    if (sample.width) {
      this.img.width = sample.width;
      this.img.height = sample.height;
    }
    const size = sample.width ? ` · ${sample.width}×${sample.height}` : "";
    const n = this.steps.length;
    const position = n > 1 ? ` (${this.stepIndex + 1} of ${n})` : "";
    this.meta.textContent =
      `step ${entry.step.toLocaleString()}${position} · ${formatTime(entry.wall_time)}${size}`;
    this.element.dataset.state = "drawn";
    this.element.dataset.step = String(entry.step);
  }
}

const cards = new CardSet("images", (run, tag) => new ImageCard(run, tag));

/** (Re)build the image cards for the current runs and tag filter. */
export function renderImages(root) {
  const count = cards.render(root, { wide: true });
  applyActualSize(root);
  return count;
}

/** Toggle natural-size rendering for every image. */
export function applyActualSize(root) {
  root.classList.toggle("actual-size", state.actual);
}

/** A stream message for an image tag. */
export function onImageData(message) {
  cards.get(message.run, message.tag)?.refresh();
}

/** Re-fetch every card on screen (the reload button; the stream normally does this). */
export function reloadImages() {
  for (const card of cards.values()) card.refresh();
}
