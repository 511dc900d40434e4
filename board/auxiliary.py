"""Auxiliary subgraphs of a TF graph, laid out apart from the model (SPEC §6 Graphs).

A training graph holds much besides the model: gradients, optimizer slots and updates,
save/restore, initializers and summaries. Each of them touches many model ops, so in one
layered layout their edges cross the whole picture. TensorBoard draws such nodes off to the
side of the main graph; here they get their own layout, placed to the right of the model, so
the model reads top to bottom and the auxiliary block sits beside it.

An op is auxiliary when
- a scope of its name is one of the conventional auxiliary scopes (`gradients`, `save`,
  `init`, `summaries`, an optimizer's own scope such as `Adam` or `GradientDescent`, a
  variable's `Initializer`), or `gradients_1` and the like;
- its op type is an optimizer update (`Apply*`, `ResourceApply*`), a checkpoint op
  (`SaveV2`, `RestoreV2`, …) or a summary (`*Summary`, `*SummaryV2`);
- it is an optimizer slot (last name part `Adam`, `Adam_1`, `Momentum`, …) or a variable's
  initial `Assign`;
- it only exists for those: a source (no inputs) whose every consumer is auxiliary (the
  learning-rate constant), or a sink (no consumers) whose every input is auxiliary (`init`,
  the `train` NoOp).
A visible node (an op, or a collapsed scope) is auxiliary when every op it stands for is.

Pure functions over names, op types and inputs; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

X_GAP = 80.0  # between the model's block and the auxiliary block

_SCOPES = re.compile(
    r"^(gradients|save|init|initializers?|summaries|summary|Initializer|report_uninitialized"
    r"_variables|GradientDescent|Adam|Adagrad|AdagradDA|Adadelta|Momentum|RMSProp|Ftrl|"
    r"ProximalAdagrad|ProximalGradientDescent|beta[12]_power|Saver|restore_all)(_\d+)?$")
_SLOTS = re.compile(r"^(Adam|Adam_\d+|Momentum|RMSProp|RMSProp_\d+|Adagrad|Adadelta|"
                    r"Adadelta_\d+|Ftrl|Ftrl_\d+|ExponentialMovingAverage)$")
_OP_TYPES = re.compile(r"^(Resource)?(Sparse)?Apply\w+$|^(SaveV2|Save|SaveSlices|RestoreV2|"
                       r"Restore|RestoreSlice|MergeV2Checkpoints|ShardedFilename|"
                       r"ShardedFilespec)$|^\w*Summary(V2)?$")


def by_rule(name: str, op: str) -> bool:
    """Auxiliary by its name or op type alone (see the module docstring)."""
    parts = name.split("/")
    if any(_SCOPES.match(p) for p in parts[:-1]) or _SCOPES.match(parts[0]):
        return True
    if len(parts) > 1 and _SLOTS.match(parts[-1]):
        return True
    if parts[-1] == "Assign" and op in ("Assign", "AssignVariableOp") and len(parts) > 1:
        return True
    return bool(_OP_TYPES.match(op))


def _source(inp: str) -> str:
    return inp[1:] if inp.startswith("^") else inp.split(":", 1)[0]


def auxiliary_ops(ops: Mapping[str, tuple[str, Iterable[str]]]) -> set[str]:
    """Names of the auxiliary ops of a graph given as {name: (op type, inputs)}."""
    inputs = {name: [_source(i) for i in ins if _source(i) in ops]
              for name, (_op, ins) in ops.items()}
    consumers: dict[str, list[str]] = {name: [] for name in ops}
    for name, ins in inputs.items():
        for src in ins:
            consumers[src].append(name)
    aux = {name for name, (op, _ins) in ops.items() if by_rule(name, op)}
    for name in ops:  # sources that only feed auxiliary ops
        if not inputs[name] and consumers[name] and all(c in aux for c in consumers[name]):
            aux.add(name)
    for name in ops:  # sinks that only gather auxiliary ops
        if not consumers[name] and inputs[name] and all(i in aux for i in inputs[name]):
            aux.add(name)
    return aux


def auxiliary_nodes(visible: Mapping[str, str], aux_ops: set[str]) -> set[str]:
    """Visible ids (from {op name: visible id}) all of whose ops are auxiliary."""
    mixed: set[str] = set()
    seen: set[str] = set()
    for name, vid in visible.items():
        seen.add(vid)
        if name not in aux_ops:
            mixed.add(vid)
    return seen - mixed


LayoutFn = Callable[[dict, list], dict]


def layout_apart(layout: LayoutFn, sizes: dict[str, tuple[float, float]],
                 edges: list[tuple[str, str]], aux: set[str]) -> dict[str, tuple[float, float]]:
    """Lay out the model (nodes not in `aux`) and the auxiliary nodes separately with
    `layout`, each only with its own edges; the auxiliary block goes to the right of the
    model's, both starting at the top. Edges between the two blocks do not shape either."""
    main = {k: v for k, v in sizes.items() if k not in aux}
    side = {k: v for k, v in sizes.items() if k in aux}
    if not main or not side:
        return layout(sizes, edges)
    pos = layout(main, [(s, t) for s, t in edges if s in main and t in main])
    right = max(x + main[k][0] / 2 for k, (x, _y) in pos.items())
    side_pos = layout(side, [(s, t) for s, t in edges if s in side and t in side])
    left = min(x - side[k][0] / 2 for k, (x, _y) in side_pos.items())
    shift = right + X_GAP - left
    pos.update({k: (round(x + shift, 1), y) for k, (x, y) in side_pos.items()})
    return pos
