"""kubectl-style tables: upper-case headers, columns left-aligned and three spaces apart."""

from __future__ import annotations

from collections.abc import Sequence

from .safetext import printable

PADDING = 3


def render(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The table as text; cells are printed with control characters escaped (their text may
    come from a registry or an API server, see :mod:`.safetext`)."""
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in (headers, *rows):
        cells = [cell.ljust(w + PADDING) for cell, w in zip(row[:-1], widths, strict=False)]
        lines.append(("".join(cells) + row[-1]).rstrip())
    return "\n".join(lines) + "\n"
