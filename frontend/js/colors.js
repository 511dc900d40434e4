// Stable run colors: a run keeps the color it got when this browser first saw it, across
// reloads and as runs come and go (the assignment is kept in localStorage, per board).
// Runs seen for the first time take the next palette color in the order given (the sorted
// run list), so a fresh browser colors run i of the list with PALETTE[i % 20].

const PALETTE = [
  "#1f77b4", "#e8710a", "#12a05a", "#d93025", "#8e44ad",
  "#00838f", "#c2185b", "#7a8b00", "#5c6bc0", "#a0522d",
  "#26a69a", "#f4511e", "#6d4c41", "#3949ab", "#9e9d24",
  "#ad1457", "#00897b", "#5e35b1", "#ef6c00", "#546e7a",
];
const STORAGE_KEY = "numboard.runColors";
const REMEMBERED = 20000; // runs kept in the assignment; the oldest are forgotten first

/** {next, colors: {run: palette index}} from localStorage, or a fresh one. */
function loadAssignment() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) ?? "null");
    if (saved && Number.isInteger(saved.next) && saved.colors && typeof saved.colors === "object") {
      const valid = Object.entries(saved.colors).filter(([, i]) => Number.isInteger(i) && i >= 0);
      return { next: saved.next, colors: new Map(valid) };
    }
  } catch {
    // storage blocked or a value from elsewhere: start afresh
  }
  return { next: 0, colors: new Map() };
}

const assignment = loadAssignment();

function save() {
  while (assignment.colors.size > REMEMBERED) {
    assignment.colors.delete(assignment.colors.keys().next().value);
  }
  try {
    const colors = Object.fromEntries(assignment.colors);
    window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ next: assignment.next, colors }));
  } catch {
    // storage full or blocked: colors still hold for this page
  }
}

/** Assign colors to new runs in the order given (call with the sorted run list). */
export function assignColors(runNames) {
  let added = false;
  for (const name of runNames) {
    if (assignment.colors.has(name)) continue;
    assignment.colors.set(name, assignment.next % PALETTE.length);
    assignment.next += 1;
    added = true;
  }
  if (added) save();
}

/** The color of a run (assigning one if it is new). */
export function runColor(name) {
  if (!assignment.colors.has(name)) assignColors([name]);
  return PALETTE[assignment.colors.get(name) % PALETTE.length];
}

/** A hex color with an alpha, as rgba(). */
export function withAlpha(hex, alpha) {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
