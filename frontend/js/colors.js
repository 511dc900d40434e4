// Stable run colors: a run keeps its color for the life of the page, and the same
// sorted run list gives the same colors after a reload.

const PALETTE = [
  "#1f77b4", "#e8710a", "#12a05a", "#d93025", "#8e44ad",
  "#00838f", "#c2185b", "#7a8b00", "#5c6bc0", "#a0522d",
  "#26a69a", "#f4511e", "#6d4c41", "#3949ab", "#9e9d24",
  "#ad1457", "#00897b", "#5e35b1", "#ef6c00", "#546e7a",
];

const assigned = new Map();

/** Assign colors to new runs in the order given (call with the sorted run list). */
export function assignColors(runNames) {
  for (const name of runNames) {
    if (!assigned.has(name)) assigned.set(name, PALETTE[assigned.size % PALETTE.length]);
  }
}

/** The color of a run (assigning one if it is new). */
export function runColor(name) {
  if (!assigned.has(name)) assignColors([name]);
  return assigned.get(name);
}

/** A hex color with an alpha, as rgba(). */
export function withAlpha(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
