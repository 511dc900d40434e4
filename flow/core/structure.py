"""Nested elements (a value, a tuple, a dict of values) as flat lists and back: pure."""

from __future__ import annotations


def flatten(structure) -> list:
    if isinstance(structure, dict):
        return [x for k in sorted(structure) for x in flatten(structure[k])]
    if isinstance(structure, tuple | list):
        return [x for item in structure for x in flatten(item)]
    return [structure]


def pack(template, flat):
    """``flat`` (an iterable) back into ``template``'s nesting."""
    it = iter(flat)

    def build(t):
        if isinstance(t, dict):
            return {k: build(t[k]) for k in sorted(t)}
        if isinstance(t, tuple | list):
            return type(t)(build(x) for x in t) if not hasattr(t, "_fields") else \
                type(t)(*[build(x) for x in t])
        return next(it)

    return build(template)


def flatten_up_to(template, values) -> list:
    """``values`` flattened only as deep as ``template`` nests (its leaves may be lists)."""
    if isinstance(template, dict):
        return [x for k in sorted(template) for x in flatten_up_to(template[k], values[k])]
    if isinstance(template, tuple | list):
        return [x for t, v in zip(template, values, strict=True) for x in flatten_up_to(t, v)]
    return [values]
