// The Runs table's numeric range filters, sorting and CSV export. Pure functions.
//
// A range is kept in the URL as "min~max~column id" (either bound may be empty: open), e.g.
// "0.001~0.05~hparam:lr" or "~0.3~min:loss". Typed in a column's min/max boxes or brushed on
// a parallel-coordinates axis; a run passes when every range holds for it (a missing value
// fails).

import { cellNumber, cellStep, cellValue, columnLabel, parseColumnId } from "./runs_columns.js";

/** Parse state.range into [{id, spec, min, max}] (bounds null when open; bad entries dropped). */
export function parseRanges(list) {
  const ranges = [];
  for (const text of list) {
    const parts = text.split("~");
    if (parts.length < 3) continue;
    const spec = parseColumnId(parts.slice(2).join("~"));
    if (!spec || spec.kind === "name") continue;
    const bound = (s) => (s.trim() === "" || !Number.isFinite(Number(s)) ? null : Number(s));
    const min = bound(parts[0]);
    const max = bound(parts[1]);
    if (min === null && max === null) continue;
    ranges.push({ id: spec.id, spec, min, max });
  }
  return ranges;
}

/** One range as its URL text. */
export function formatRange({ id, min, max }) {
  return `${min ?? ""}~${max ?? ""}~${id}`;
}

/** state.range with the range of one column replaced (or removed when both bounds are null). */
export function withRange(list, id, min, max) {
  const others = parseRanges(list).filter((r) => r.id !== id);
  if (min !== null || max !== null) others.push({ id, min, max });
  return others.map(formatRange);
}

/** Whether a row passes every range. */
export function passes(row, ranges, data) {
  for (const r of ranges) {
    const x = cellNumber(row, r.spec, data);
    if (x === null || !Number.isFinite(x)) return false;
    if (r.min !== null && x < r.min) return false;
    if (r.max !== null && x > r.max) return false;
  }
  return true;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

function compareValues(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === typeof b) return collator.compare(String(a), String(b));
  return typeof a === "number" ? -1 : 1; // numbers before text in a mixed column
}

/** Rows sorted by a column (dir 1 ascending, -1 descending); missing values always last. */
export function sortRows(rows, spec, dir, data) {
  const keyed = rows.map((row) => [cellValue(row, spec, data), row]);
  keyed.sort(([a, ra], [b, rb]) => {
    const missingA = a === null || (typeof a === "number" && Number.isNaN(a));
    const missingB = b === null || (typeof b === "number" && Number.isNaN(b));
    if (missingA || missingB) return missingA - missingB || collator.compare(ra.name, rb.name);
    return dir * compareValues(a, b) || collator.compare(ra.name, rb.name);
  });
  return keyed.map(([, row]) => row);
}

/** A CSV field: quoted when it holds a comma, quote, CR or LF (RFC 4180), quotes doubled. */
export function csvField(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The CSV of rows × columns: metric columns get their step next to them, times in ISO 8601. */
export function toCsv(specs, rows, data) {
  const header = [];
  for (const spec of specs) {
    const label = spec.kind === "metric" ? `${spec.tag} (${spec.mode})` : columnLabel(spec);
    header.push(label);
    if (spec.kind === "metric") header.push(`${spec.tag} (${spec.mode} step)`);
  }
  const lines = [header.map(csvField).join(",")];
  for (const row of rows) {
    const fields = [];
    for (const spec of specs) {
      let value = cellValue(row, spec, data);
      if (spec.kind === "updated" && value !== null) value = new Date(value * 1000).toISOString();
      fields.push(value);
      if (spec.kind === "metric") fields.push(cellStep(row, spec, data));
    }
    lines.push(fields.map(csvField).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}
