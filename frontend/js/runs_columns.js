// The Runs table's columns and cell values, from a /api/runs/table body. Pure functions.
//
// A column id names what it shows, so a filter kept in the URL means the same thing after a
// reload: "name", "hparam:<name>", "<last|min|max>:<tag>", "points" (points over every
// scalar tag) and "updated" (the newest point's wall time, seconds).

export const MODES = ["last", "min", "max"];

/** Index of each field of a metric list ({last: 0, last_step: 1, …}) in body.metric_fields. */
export function fieldIndex(body) {
  return Object.fromEntries((body.metric_fields ?? []).map((name, i) => [name, i]));
}

/** A column's spec from its id: {id, kind, name?, tag?, mode?}, or null if unknown. */
export function parseColumnId(id) {
  if (id === "name" || id === "points" || id === "updated") return { id, kind: id };
  const colon = id.indexOf(":");
  if (colon < 0) return null;
  const head = id.slice(0, colon);
  const rest = id.slice(colon + 1);
  if (head === "hparam") return { id, kind: "hparam", name: rest };
  if (MODES.includes(head)) return { id, kind: "metric", tag: rest, mode: head };
  return null;
}

export const metricId = (tag, mode) => `${mode}:${tag}`;

/** A column's header text. */
export function columnLabel(spec) {
  if (spec.kind === "name") return "Run";
  if (spec.kind === "points") return "Points";
  if (spec.kind === "updated") return "Last update";
  if (spec.kind === "hparam") return spec.name;
  return spec.tag;
}

/**
 * The data of a body prepared once: rows, field indexes, hparam names, metric tags,
 * whether each hparam is numeric, and the sorted distinct values of the other hparams
 * (their positions are their coordinates on the parallel-coordinates axes and in filters).
 */
export function prepare(body) {
  const rows = body.runs ?? [];
  const fields = fieldIndex(body);
  const hparams = body.columns?.hparams ?? [];
  const tags = body.columns?.metrics ?? [];
  const numeric = new Map();
  const categories = new Map();
  for (const name of hparams) {
    const values = rows.map((row) => row.hparams?.[name] ?? null).filter((v) => v !== null);
    const allNumbers = values.every((v) => typeof v === "number");
    numeric.set(name, allNumbers);
    if (!allNumbers) {
      const distinct = [...new Set(values.map(String))];
      distinct.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
      categories.set(name, distinct);
    }
  }
  for (const row of rows) {
    let points = 0;
    for (const list of Object.values(row.metrics ?? {})) points += list[fields.count] ?? 0;
    row.points = points;
  }
  const preferred = (body.experiment?.metrics ?? [])
    .map((m) => m.tag)
    .filter((t) => tags.includes(t));
  return { rows, fields, hparams, tags, numeric, categories, preferred, version: body.version };
}

/** Whether a column holds numbers (its filter takes a numeric range). */
export function isNumeric(spec, data) {
  if (spec.kind === "hparam") return data.numeric.get(spec.name) ?? false;
  return spec.kind !== "name";
}

/** The raw value of a cell: a number, string, boolean or null (missing). */
export function cellValue(row, spec, data) {
  switch (spec.kind) {
    case "name":
      return row.name;
    case "points":
      return row.points;
    case "updated":
      return row.last_wall_time ?? null;
    case "hparam":
      return row.hparams?.[spec.name] ?? null;
    default:
      return row.metrics?.[spec.tag]?.[data.fields[spec.mode]] ?? null;
  }
}

/** The step of a metric cell's value (null for other columns). */
export function cellStep(row, spec, data) {
  if (spec.kind !== "metric") return null;
  return row.metrics?.[spec.tag]?.[data.fields[`${spec.mode}_step`]] ?? null;
}

/**
 * A cell's value as a number for ranges and the parallel-coordinates plot: numbers as they
 * are, other hparam values as their position among the column's distinct values.
 */
export function cellNumber(row, spec, data) {
  const value = cellValue(row, spec, data);
  if (value === null) return null;
  if (typeof value === "number") return value;
  if (spec.kind !== "hparam") return null;
  const index = data.categories.get(spec.name)?.indexOf(String(value)) ?? -1;
  return index < 0 ? null : index;
}

/** The table's columns: name, hparams, one per metric tag (in its chosen mode), points, update. */
export function tableColumns(data, modes, tagRe) {
  const specs = [parseColumnId("name")];
  for (const name of data.hparams) specs.push(parseColumnId(`hparam:${name}`));
  for (const tag of data.tags) {
    if (tagRe && !tagRe.test(tag)) continue;
    specs.push(parseColumnId(metricId(tag, modes.get(tag) ?? "last")));
  }
  specs.push(parseColumnId("points"), parseColumnId("updated"));
  return specs;
}
