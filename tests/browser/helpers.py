"""Small page helpers shared by the browser tests: read plotly traces, move sliders."""

from __future__ import annotations

import json

TIMEOUT = 30_000


def card_selector(tag: str) -> str:
    return f".scalar-card[data-tag={json.dumps(tag)}]"


def wait_scalars_ready(page) -> None:
    page.wait_for_selector('#view-scalars[data-ready="1"]', timeout=TIMEOUT)


def wait_card_drawn(page, tag: str) -> None:
    """Scroll a card into view (cards load lazily) and wait until its chart is drawn."""
    page.wait_for_selector(card_selector(tag), timeout=TIMEOUT).scroll_into_view_if_needed()
    page.wait_for_selector(f'{card_selector(tag)}[data-state="drawn"]', timeout=TIMEOUT)


def traces(page, tag: str) -> list[dict]:
    """The plotly traces of a scalar card: [{run, kind, x, y}]."""
    return page.evaluate(
        """(sel) => {
            const plot = document.querySelector(sel + ' .plot');
            return (plot && plot.data || []).map((t) => ({
                run: t.meta.run, kind: t.meta.kind,
                x: Array.from(t.x, (v) => (v instanceof Date ? v.getTime() : v)),
                y: Array.from(t.y)}));
        }""",
        card_selector(tag),
    )


def set_range(page, selector: str, value) -> None:
    """Move a range input as a user would (value + input event)."""
    page.eval_on_selector(
        selector,
        """(input, value) => {
            input.value = String(value);
            input.dispatchEvent(new Event('input', {bubbles: true}));
        }""",
        value,
    )


def tb_smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's classicSmoothing, written from its TypeScript, as the test oracle."""
    constant = all(v == values[0] for v in values)
    last, n, out = 0.0, 0, []
    for y in values:
        if constant or y != y or y in (float("inf"), float("-inf")):
            out.append(y)
            continue
        last = last * weight + (1 - weight) * y
        n += 1
        out.append(last / (1 - weight**n) if weight != 1 else last)
    return out
