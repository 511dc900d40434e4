"""Text summaries as safe HTML (SPEC §5b): Markdown by markdown-it-py, tensors as tables.

Strings come from event files, so nothing in them may reach the page as markup that runs:
raw HTML is off (``<script>`` comes out as text), and a link or image is kept only when its
URL is http, https or mailto (anything else, ``javascript:`` included, stays plain text);
links get ``rel="noopener noreferrer nofollow"``. Tables for rank-1 and rank-2 tensors are
built here with each cell rendered the same way. Pure functions; results are memoised per
string (text rarely changes once written).
"""

from __future__ import annotations

import functools
import re

from markdown_it import MarkdownIt

_SAFE_URL = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)
_MAX_TABLE_CELLS = 10_000


def _md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.validateLink = lambda url: bool(_SAFE_URL.match(url.strip()))

    def link_open(renderer, tokens, idx, options, env):
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MD = _md()


@functools.lru_cache(maxsize=4096)
def markdown_html(text: str) -> str:
    """One string as HTML, Markdown rendered with raw HTML disabled."""
    return _MD.render(text)


def _table(rows: list[list[str]]) -> str:
    body = "".join(
        "<tr>" + "".join(f"<td>{markdown_html(cell)}</td>" for cell in row) + "</tr>"
        for row in rows)
    return f'<table class="text-table"><tbody>{body}</tbody></table>'


def tensor_html(shape: tuple[int, ...], values: tuple[str, ...]) -> tuple[str, list[str]]:
    """HTML for a string tensor of any rank, and notes about what is not shown.

    Rank 0: Markdown. Rank 1: a one-column table. Rank 2: a table. Higher ranks: the first
    2-D slice ``[0, ..., 0, :, :]`` as a table, with a note. Tables stop at 10000 cells.
    """
    notes: list[str] = []
    if len(shape) == 0:
        return markdown_html(values[0] if values else ""), notes
    if len(shape) == 1:
        rows = [[v] for v in values]
    else:
        if len(shape) > 2:
            notes.append(f"rank-{len(shape)} tensor of shape {list(shape)}: showing the first "
                         f"2-D slice [{', '.join(['0'] * (len(shape) - 2))}, :, :]")
        n_rows, n_cols = shape[-2], shape[-1]
        flat = values[: n_rows * n_cols]
        rows = [list(flat[r * n_cols:(r + 1) * n_cols]) for r in range(n_rows)] if n_cols else []
    if not values:
        return "", notes + ["empty tensor"]
    if sum(len(r) for r in rows) > _MAX_TABLE_CELLS:
        kept, total = [], 0
        for row in rows:
            if total + len(row) > _MAX_TABLE_CELLS:
                break
            kept.append(row)
            total += len(row)
        notes.append(f"showing the first {len(kept)} of {len(rows)} rows")
        rows = kept
    return _table(rows), notes
