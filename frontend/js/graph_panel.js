// The graph view's side panel: details of the selected node (op, device, shapes,
// inputs, outputs, attrs; with a session run picked, its compute time and memory). Everything
// here is text from the event files: textContent only.

import { clear, el } from "./dom.js";

function formatValue(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** A TensorShape as TensorFlow prints it: (?, 256); "unknown" for unknown rank. */
function formatShape(shape) {
  if (!Array.isArray(shape)) return formatValue(shape);
  return `(${shape.map((d) => (d < 0 ? "?" : String(d))).join(", ")})`;
}

function shapesOf(node) {
  const attrs = node.attrs ?? {};
  if (Array.isArray(attrs._output_shapes)) return attrs._output_shapes.map(formatShape);
  if (attrs.shape !== undefined) return [formatShape(attrs.shape)];
  return [];
}

function nameList(names, onPick) {
  if (!names.length) return el("p", { class: "placeholder", text: "none" });
  return el(
    "ul",
    {},
    names.map((name) =>
      el(
        "li",
        {},
        el("button", { type: "button", class: "link-button", onclick: () => onPick(name) }, name),
      ),
    ),
  );
}

/**
 * Render `node` (a /api/graph node, or null for the placeholder) into `panel`.
 * `edges` lets the panel list outputs; `onPick(name)` jumps to a node; `extra` adds
 * [label, text] facts (the session run's numbers).
 */
export function renderPanel(panel, node, edges, onPick, extra = []) {
  clear(panel);
  if (!node) {
    panel.append(
      el("h3", { text: "Node details" }),
      el("p", {
        class: "placeholder",
        text: "Select a node to see its op, attributes, inputs and shapes. Click a scope "
          + "(rounded box) to open it; close it again from its chip above the graph. Drag to "
          + "pan, scroll to zoom.",
      }),
    );
    return;
  }
  const isScope = node.kind === "scope";
  const kind = isScope ? `scope · ${node.child_count} ops inside` : node.op;
  panel.append(el("h3", { text: node.name }), el("p", { class: "kind", text: kind }));
  const facts = [["Device", node.device || "—"]];
  const shapes = shapesOf(node);
  if (shapes.length) facts.push(["Shapes", shapes.join(", ")]);
  facts.push(...extra);
  panel.append(
    el("dl", {}, facts.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
  );
  const inputs = (node.inputs ?? []).map((name) => name.replace(/^\^/, ""));
  panel.append(el("h4", { text: `Inputs (${inputs.length})` }), nameList(inputs, onPick));
  const outputs = edges.filter((e) => e.source === node.id).map((e) => e.target);
  panel.append(el("h4", { text: `Outputs (${outputs.length})` }), nameList(outputs, onPick));
  const attrs = Object.entries(node.attrs ?? {}).filter(([k]) => k !== "_output_shapes");
  if (attrs.length) {
    panel.append(
      el("h4", { text: "Attributes" }),
      el(
        "dl",
        {},
        attrs.map(([k, v]) => [el("dt", { text: k }), el("dd", { text: formatValue(v) })]),
      ),
    );
  }
}
