"""One line of the speed table: a benchmark records each figure it prints, for bench/table.py to gather.

A benchmark calls `record(...)` beside its own printing; the figure is appended, as a JSON line, to the file
named by BENCH_FIGURES (nothing happens when it is unset, so each benchmark still runs alone).
"""

import json
import os


def record(area: str, figure: str, value: float, *, backend: str, size: str = "", target: str = "",
           met: bool | None = None) -> None:
    """`value` of `figure` (a ratio or a rate, as its name says) for `area` on `backend` at `size` of data."""
    path = os.environ.get("BENCH_FIGURES")
    if not path:
        return
    line = {"area": area, "figure": figure, "value": value, "backend": backend, "size": size, "target": target,
            "met": met}
    with open(path, "a") as handle:
        handle.write(json.dumps(line) + "\n")
