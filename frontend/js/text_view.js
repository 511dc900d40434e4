// The Text tab: a card per text tag and, in it, each selected run's text (in the run's
// color) at one step, with a step slider per run over every stored step (the newest step
// unless moved back, as TensorBoard's text dashboard), the step and wall time, and the
// board's notes about text it cannot show as written. The HTML comes rendered from the
// server and goes in through safe_html.js only.

import { fetchText } from "./api.js";
import { runColor } from "./colors.js";
import { el } from "./dom.js";
import { formatTime } from "./images.js";
import { LiveCard } from "./live_card.js";
import { visibleRuns } from "./runs.js";
import { safeFragment } from "./safe_html.js";
import { state } from "./state.js";
import { groupOf, layoutGroups, runsWithTag, tagsOf } from "./tags.js";

/** One run's text of one tag: header, step slider, notes and the rendered HTML. */
class RunText extends LiveCard {
  constructor(run, tag) {
    super(run, tag);
    this.stepIndex = -1;
    this.follow = true;
    this.meta = el("span", { class: "text-meta" });
    this.slider = el("input", {
      type: "range",
      min: 0,
      max: 0,
      value: 0,
      disabled: true,
      "aria-label": `Step of ${tag} in ${run}`,
    });
    this.slider.addEventListener("input", () => {
      this.stepIndex = Number(this.slider.value);
      this.follow = this.stepIndex === this.steps.length - 1;
      this.render();
    });
    this.notes = el("ul", { class: "text-notes", hidden: true });
    this.body = el("div", { class: "text-body" });
    this.element = el(
      "section",
      { class: "text-run", dataset: { run, tag, state: "waiting" } },
      el(
        "div",
        { class: "card-sub" },
        this.swatch(),
        el("span", { class: "text-run-name", text: run }),
        this.meta,
      ),
      el("label", { class: "slider-row" }, el("span", { text: "Step" }), this.slider),
      this.notes,
      this.body,
    );
    this.element.style.borderLeftColor = runColor(run);
  }

  fetchAndRender() {
    return this.loadSteps(() => fetchText(this.run, this.tag), "text", this.slider);
  }

  render() {
    const entry = this.steps[this.stepIndex];
    if (!entry) {
      this.meta.textContent = "No text yet.";
      this.body.replaceChildren();
      this.element.dataset.state = "drawn";
      return;
    }
    const n = this.steps.length;
    const position = n > 1 ? ` (${this.stepIndex + 1} of ${n})` : "";
    const shape = entry.shape?.length ? ` · ${entry.shape.join("×")} tensor` : "";
    this.meta.textContent =
      `step ${entry.step.toLocaleString()}${position} · ${formatTime(entry.wall_time)}${shape}`;
    const notes = entry.notes ?? [];
    this.notes.hidden = !notes.length;
    this.notes.replaceChildren(...notes.map((note) => el("li", { role: "note", text: note })));
    this.body.replaceChildren(safeFragment(entry.html));
    this.element.dataset.step = String(entry.step);
    this.element.dataset.state = "drawn";
  }
}

/** One tag's card: a RunText per selected run holding the tag, in run-list order. */
class TextCard {
  constructor(tag) {
    this.tag = tag;
    this.blocks = new Map(); // run -> RunText
    this.shown = false;
    this.list = el("div", { class: "text-runs" });
    this.element = el(
      "article",
      { class: "card text-card", dataset: { tag } },
      el("div", { class: "card-head" }, el("h3", { class: "card-title", text: tag })),
      this.list,
    );
  }

  setRuns(names) {
    const wanted = new Set(names);
    for (const [run, block] of this.blocks) {
      if (wanted.has(run)) continue;
      block.element.remove();
      this.blocks.delete(run);
    }
    for (const run of names) {
      if (this.blocks.has(run)) continue;
      const block = new RunText(run, this.tag);
      this.blocks.set(run, block);
      if (this.shown) block.show();
    }
    const order = names.map((run) => this.blocks.get(run).element);
    if (order.some((node, i) => this.list.children[i] !== node)) this.list.replaceChildren(...order);
  }

  show() {
    this.shown = true;
    for (const block of this.blocks.values()) block.show();
  }
}

const cards = new Map(); // tag -> TextCard
const observer = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      cards.get(entry.target.dataset.tag)?.show();
      observer.unobserve(entry.target);
    }
  },
  { rootMargin: "300px 0px" },
);

/** (Re)build the text cards for the visible runs and the tag filter; returns how many. */
export function renderText(root) {
  const runs = visibleRuns();
  const tags = tagsOf(runs, "text", state.tags);
  const wanted = new Set(tags);
  for (const [tag, card] of cards) {
    if (wanted.has(tag)) continue;
    observer.unobserve(card.element);
    card.element.remove();
    cards.delete(tag);
  }
  for (const tag of tags) {
    let card = cards.get(tag);
    if (!card) {
      card = new TextCard(tag);
      cards.set(tag, card);
      observer.observe(card.element);
    }
    card.setRuns(runsWithTag(runs, "text", tag));
  }
  layoutGroups(root, tags, groupOf, (tag) => cards.get(tag).element);
  return tags.length;
}

/** A stream message for a text tag: the run's block in that card loads the new step. */
export function onTextData(message) {
  cards.get(message.tag)?.blocks.get(message.run)?.refresh();
}

/** Re-fetch every run's text on screen (the reload button). */
export function reloadText() {
  for (const card of cards.values()) {
    for (const block of card.blocks.values()) block.refresh();
  }
}
