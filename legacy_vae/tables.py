"""Plain-text tables for the terminal: every table the package prints goes through ``table``."""
from __future__ import annotations


def table(header, rows, left: int = 1) -> str:
    """Columns padded to their widest cell, a dashed rule under the header; the first
    ``left`` columns are left-aligned (labels), the others right-aligned (numbers)."""
    rows = [tuple(str(cell) for cell in row) for row in [header, *rows]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i < left else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
