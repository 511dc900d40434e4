// Find a node of the graph by name, including ops hidden inside closed scopes: the full
// list of op names is gathered once per run by asking /api/graph to open every scope.

import { fetchGraph } from "./api.js";

const MAX_DEPTH = 16;
const cache = new Map(); // run -> Promise<string[]>

/** Every op name of a run's graph (opens scopes level by level; cached per run). */
export function allNames(run, expanded) {
  if (!cache.has(run)) {
    const task = (async () => {
      const opened = new Set(expanded);
      const names = new Set();
      for (let depth = 0; depth < MAX_DEPTH; depth++) {
        const body = await fetchGraph(run, [...opened]);
        const scopes = body.nodes.filter((n) => n.kind === "scope").map((n) => n.id);
        for (const node of body.nodes) if (node.kind !== "scope") names.add(node.id);
        if (!scopes.length) break;
        for (const scope of scopes) opened.add(scope);
      }
      return [...names].sort();
    })();
    task.catch(() => cache.delete(run));
    cache.set(run, task);
  }
  return cache.get(run);
}

/** Forget cached names (the run's graph changed). */
export function forgetNames(run) {
  cache.delete(run);
}

/**
 * The best match for `query`: an exact visible id or op name, then a name ending in
 * "/query", then the shortest name containing it (case-insensitive). Null if none.
 */
export async function findNode(graph, query, expanded) {
  const visible = graph.nodes.map((n) => n.id);
  if (visible.includes(query)) return query;
  const names = await allNames(graph.run, expanded);
  if (names.includes(query)) return query;
  const lower = query.toLowerCase();
  const pool = [...new Set([...names, ...visible])];
  const suffix = pool.filter((n) => n.toLowerCase().endsWith(`/${lower}`));
  if (suffix.length) return suffix.sort((a, b) => a.length - b.length)[0];
  const contains = pool.filter((n) => n.toLowerCase().includes(lower));
  return contains.sort((a, b) => a.length - b.length)[0] ?? null;
}
