// Pinned cards: a card's pin button moves it into the "Pinned" section on top of the Scalars
// tab (#pinned in index.html; state.pin keeps the pinned tags, in pin order, in the URL);
// unpinning puts it back in its group. The card element itself moves, so its chart, zoom and
// data stay as they were.

import { byId, el } from "./dom.js";
import { icon } from "./icons.js";
import { state, update } from "./state.js";
import { groupOf, naturalCompare } from "./tags.js";

export function isPinned(tag) {
  return state.pin.includes(tag);
}

export function togglePin(tag) {
  update({ pin: isPinned(tag) ? state.pin.filter((t) => t !== tag) : [...state.pin, tag] });
}

/** The card-head pin button; `sync()` reflects the state after a change. */
export function pinButton(tag) {
  const button = el("button", {
    type: "button",
    class: "card-tool pin-toggle",
    "aria-label": `Pin ${tag}`,
    title: "Pin this card to the top",
  }, icon("pin"));
  const sync = () => {
    button.setAttribute("aria-pressed", String(isPinned(tag)));
    button.title = isPinned(tag) ? "Unpin" : "Pin this card to the top";
  };
  button.addEventListener("click", () => togglePin(tag));
  sync();
  return { button, sync };
}

/** Put a card back into its tag group, in tag order. */
function unpin(root, element) {
  const tag = element.dataset.tag;
  const grid = [...root.querySelectorAll(":scope > details.group")]
    .find((d) => d.dataset.group === groupOf(tag))
    ?.querySelector(".cards");
  if (!grid) return void element.remove();
  const next = [...grid.children].find((c) => naturalCompare(c.dataset.tag, tag) > 0);
  grid.insertBefore(element, next ?? null);
}

/**
 * Keep the Pinned section (#pinned, above the groups of `root`) in step with state.pin:
 * pinned cards (elementFor(tag) among the cards on the page) move into it, unpinned ones go
 * back to their groups. Call after the groups are laid out and whenever state.pin changes.
 */
export function layoutPinned(root, elementFor) {
  const section = byId("pinned");
  const grid = section.querySelector(".cards");
  const pinned = state.pin.map((tag) => elementFor(tag)).filter(Boolean);
  for (const card of [...grid.children]) {
    if (!isPinned(card.dataset.tag)) unpin(root, card);
  }
  for (const element of pinned) grid.append(element);
  section.querySelector(".group-count").textContent = String(pinned.length);
  section.hidden = !pinned.length;
}
