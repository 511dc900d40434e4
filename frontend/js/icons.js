// Small line icons for the card tools, drawn with SVG paths (no icon font, no emoji: both
// depend on the fonts a machine happens to have).

import { svg } from "./dom.js";

const PATHS = {
  pin: "M9 2h6l-1 6 3 3v2h-4v7l-1 1-1-1v-7H7v-2l3-3z",
  expand: "M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5",
  outliers: "M12 3v18M8 7l4-4 4 4M8 17l4 4 4-4M4 12h3M17 12h3",
};

/** An icon as an <svg> element (decorative: the button carries the label). */
export function icon(name) {
  return svg(
    "svg",
    { class: `icon icon-${name}`, viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" },
    svg("path", { d: PATHS[name] }),
  );
}
