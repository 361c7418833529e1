"""A sweep's results for people and for tools: a table, JSON Lines, CSV, and the progress
line shown while it runs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import IO

from qconf.sweep.executors import Progress
from qconf.sweep.jobs import Row

__all__ = ("CSV_COLUMNS", "FORMATS", "progress_line", "summary", "table", "write_rows")

FORMATS = ("table", "jsonl", "csv")

CSV_COLUMNS = ("variant", "tweaks", "exit", "ok", "reason", "instructions", "virtual_ns",
               "wall_s", "matched", "expected", "console_sha256", "console_tail", "config",
               "sets")  # fmt: skip
"""CSV's columns; lists (tweaks, sets, the console's tail) are joined by spaces or ``|``."""


def _tail(row: Row, width: int) -> str:
    last = next((line for line in reversed(row.console_tail) if line.strip()), "")
    last = "".join(ch if ch.isprintable() else "." for ch in last.strip())
    return last if len(last) <= width else last[: width - 1] + "…"


def table(rows: Sequence[Row]) -> list[str]:
    """The rows as an aligned table: the variant's number and tweaks, exit status,
    instructions, virtual time, wall time, expects matched, the console's digest (first 8
    hex digits) and last line."""
    header = ("#", "tweaks", "exit", "instructions", "virtual ms", "wall s", "expects",
              "console", "last line")  # fmt: skip
    body = []
    for row in rows:
        body.append((
            str(row.variant),
            " ".join(row.tweaks) or "-",
            str(row.exit) + ("" if row.ok or row.exit else " (expects)"),
            f"{row.instructions:,}",
            f"{row.virtual_ns / 1e6:.3f}",
            f"{row.wall_s:.2f}",
            f"{row.matched}/{row.expected}" if row.expected else "-",
            row.console_sha256[:8] or "-",
            _tail(row, 40) if row.exit != 1 or row.instructions else row.reason[:60],
        ))  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    right = {0, 2, 3, 4, 5}

    def line(cells: Sequence[str]) -> str:
        padded = (c.rjust(w) if i in right else c.ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths, strict=True)))  # fmt: skip
        return "  ".join(padded).rstrip()

    return [line(header)] + [line(r) for r in body]


def write_rows(rows: Sequence[Row], fmt: str, out: IO[str]) -> None:
    """Write the rows as ``jsonl`` (one JSON object a line, every field) or ``csv``
    (:data:`CSV_COLUMNS`), or ``table``."""
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row.to_json(), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            data = row.to_json()
            data["tweaks"] = " ".join(row.tweaks)
            data["sets"] = " ".join(row.sets)
            data["console_tail"] = " | ".join(row.console_tail)
            writer.writerow([data[c] for c in CSV_COLUMNS])
    else:
        out.write("\n".join(table(rows)) + "\n")


def progress_line(progress: Progress, width: int = 24) -> str:
    """``[#######.........] 7/16 finished, 1 failed, 2 running``."""
    total = max(progress.total, 1)
    filled = width * progress.finished // total
    bar = "#" * filled + "." * (width - filled)
    return (f"[{bar}] {progress.finished}/{progress.total} finished, {progress.failed} "
            f"failed, {progress.running} running")  # fmt: skip


def summary(rows: Sequence[Row], wall_s: float) -> str:
    """One line: how many variants passed and failed, and how long the sweep took."""
    failed = sum(not row.ok for row in rows)
    n = len(rows)
    return (f"qconf: {n} variant{'s'[: n != 1]}: {n - failed} passed, {failed} failed "
            f"({wall_s:.1f} s)")  # fmt: skip


def render(rows: Sequence[Row], fmt: str) -> str:
    """The rows in ``fmt``, as one string."""
    out = io.StringIO()
    write_rows(rows, fmt, out)
    return out.getvalue()
