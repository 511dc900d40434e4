"""A compact layered (Sugiyama-style) layout for directed graphs (SPEC §5 /api/graph).

Steps, as in Sugiyama, Tagawa & Toda (1981) and dagre (which TensorBoard uses):
1. cycle removal: edges that close a DFS cycle are laid out reversed;
2. layering: longest path from the sources, then each source is pulled down next to its
   nearest successor (so constants and variables sit beside their consumers);
3. long edges get one dummy node per crossed layer;
4. ordering: barycenter sweeps down and up, keeping the order with fewest crossings;
5. coordinates: layers stacked top to bottom (inputs above consumers); x packed in order,
   then nudged toward the mean x of neighbours in alternating sweeps, never overlapping.

Pure Python over ids and sizes; no I/O. `layout()` returns centre coordinates.
"""

from __future__ import annotations

import time
from bisect import bisect_right, insort
from collections import defaultdict

X_GAP = 24.0
Y_GAP = 56.0
SWEEPS = 8
MAX_DUMMIES = 20_000
BIG = 3000  # above this many nodes, fewer ordering sweeps (a scope-less graph of 10k+ ops)


def layout(sizes: dict[str, tuple[float, float]], edges: list[tuple[str, str]],
           seconds: float | None = None) -> dict[str, tuple[float, float]]:
    """Centre (x, y) of every node in `sizes` (id -> (width, height)) for `edges` (u -> v).
    With `seconds`, the ordering sweeps stop once that much time has passed (the best order
    found so far is kept); every other step is near-linear in nodes plus edges."""
    deadline = None if seconds is None else time.monotonic() + seconds
    nodes = list(sizes)
    if not nodes:
        return {}
    succ, pred = _acyclic(nodes, [(u, v) for u, v in edges if u != v and u in sizes
                                  and v in sizes])
    rank = _layers(nodes, succ, pred)
    layers, up, down = _with_dummies(nodes, rank, succ)
    _order(layers, up, down, SWEEPS if len(nodes) <= BIG else 2, deadline)
    return _coordinates(layers, up, down, sizes)


def _acyclic(nodes, edges):
    """Successor/predecessor sets with DFS back edges reversed (so the graph is a DAG)."""
    out = defaultdict(list)
    for u, v in edges:
        out[u].append(v)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    reversed_edges = set()
    for root in nodes:
        if root in state:
            continue
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            for nxt in it:
                s = state.get(nxt)
                if s is None:
                    state[nxt] = 1
                    stack.append((nxt, iter(out[nxt])))
                    break
                if s == 1:
                    reversed_edges.add((node, nxt))
            else:
                state[node] = 2
                stack.pop()
    succ = {n: set() for n in nodes}
    pred = {n: set() for n in nodes}
    for u, v in edges:
        if (u, v) in reversed_edges:
            u, v = v, u
        if u != v:
            succ[u].add(v)
            pred[v].add(u)
    return succ, pred


def _layers(nodes, succ, pred) -> dict[str, int]:
    """Longest-path layering, then sources moved down to just above their first consumer."""
    indeg = {n: len(pred[n]) for n in nodes}
    queue = [n for n in nodes if indeg[n] == 0]
    rank = dict.fromkeys(queue, 0)
    topo = []
    while queue:
        n = queue.pop()
        topo.append(n)
        for m in succ[n]:
            rank[m] = max(rank.get(m, 0), rank[n] + 1)
            indeg[m] -= 1
            if indeg[m] == 0:
                queue.append(m)
    for n in reversed(topo):
        if not pred[n] and succ[n]:
            rank[n] = min(rank[m] for m in succ[n]) - 1
    return rank


def _with_dummies(nodes, rank, succ):
    """Layers (lists of ids) plus up/down adjacency, with dummy ids for long edges."""
    up = defaultdict(list)
    down = defaultdict(list)
    by_rank = defaultdict(list)
    for n in nodes:
        by_rank[rank[n]].append(n)
    dummies = 0
    for u in nodes:
        for v in sorted(succ[u]):
            span = rank[v] - rank[u]
            prev = u
            if 1 < span and dummies + span <= MAX_DUMMIES:
                for r in range(rank[u] + 1, rank[v]):
                    d = ("dummy", u, v, r)
                    by_rank[r].append(d)
                    down[prev].append(d)
                    up[d].append(prev)
                    prev = d
                    dummies += 1
            down[prev].append(v)
            up[v].append(prev)
    lo, hi = min(by_rank), max(by_rank)
    return [by_rank.get(r, []) for r in range(lo, hi + 1)], up, down


def crossings(upper: list, lower: list, down) -> int:
    """Edge crossings between two adjacent layers (inversion count, O(E log E))."""
    pos = {n: i for i, n in enumerate(lower)}
    ends = []
    for u in upper:
        ends.extend(sorted(pos[v] for v in down.get(u, ()) if v in pos))
    seen: list[int] = []
    count = 0
    for e in ends:
        count += len(seen) - bisect_right(seen, e)
        insort(seen, e)
    return count


def total_crossings(layers, down) -> int:
    return sum(crossings(layers[i], layers[i + 1], down) for i in range(len(layers) - 1))


def _order(layers, up, down, sweeps: int = SWEEPS, deadline: float | None = None) -> None:
    """Barycenter sweeps in place; keeps the best ordering seen (until `deadline`)."""
    best = [list(layer) for layer in layers]
    best_count = total_crossings(layers, down)
    for sweep in range(sweeps):
        if best_count == 0 or (deadline is not None and time.monotonic() > deadline):
            break
        rng = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        adjacency = up if sweep % 2 == 0 else down
        for i in rng:
            ref = layers[i - 1] if sweep % 2 == 0 else layers[i + 1]
            pos = {n: k for k, n in enumerate(ref)}
            keyed = []
            for k, n in enumerate(layers[i]):
                ps = [pos[m] for m in adjacency.get(n, ()) if m in pos]
                keyed.append((sum(ps) / len(ps) if ps else k, k, n))
            keyed.sort(key=lambda t: (t[0], t[1]))
            layers[i][:] = [n for _, _, n in keyed]
        count = total_crossings(layers, down)
        if count < best_count:
            best_count = count
            best = [list(layer) for layer in layers]
    layers[:] = best


def _coordinates(layers, up, down, sizes):
    def width(n):
        return sizes[n][0] if n in sizes else 0.0

    xs: dict = {}
    for layer in layers:
        x = 0.0
        for n in layer:
            xs[n] = x + width(n) / 2
            x += width(n) + X_GAP
    for sweep in range(4):
        order = range(1, len(layers)) if sweep % 2 == 0 else range(len(layers) - 2, -1, -1)
        adjacency = up if sweep % 2 == 0 else down
        for i in order:
            layer = layers[i]
            want = []
            for n in layer:
                ns = adjacency.get(n, ())
                want.append(sum(xs[m] for m in ns) / len(ns) if ns else xs[n])
            _place(layer, want, xs, width)
    left = min(xs[n] - width(n) / 2 for layer in layers for n in layer)
    pos = {}
    y = 0.0
    for layer in layers:
        height = max((sizes[n][1] for n in layer if n in sizes), default=0.0)
        for n in layer:
            if n in sizes:
                pos[n] = (round(xs[n] - left, 1), round(y + height / 2, 1))
        y += height + Y_GAP
    return pos


def _place(layer, want, xs, width) -> None:
    """Put each node as near its wanted x as order and spacing allow (two passes)."""
    n = len(layer)
    left = [0.0] * n
    for k in range(n):  # left to right: no overlap with the previous node
        lo = left[k - 1] + (width(layer[k - 1]) + width(layer[k])) / 2 + X_GAP if k else -1e18
        left[k] = max(want[k], lo)
    right = [0.0] * n
    for k in range(n - 1, -1, -1):  # right to left: the mirror image
        hi = right[k + 1] - (width(layer[k + 1]) + width(layer[k])) / 2 - X_GAP \
            if k < n - 1 else 1e18
        right[k] = min(want[k], hi)
    for k in range(n):  # the mean of two feasible placements is feasible
        xs[layer[k]] = (left[k] + right[k]) / 2
