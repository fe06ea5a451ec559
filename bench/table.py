#!/usr/bin/env python3
"""The speed table: every speed benchmark run in turn, their figures gathered into one Markdown table.

Each benchmark measures its own baselines in the same run (bare Flask no-op, a bare Core insert and commit,
`GET /v1/me`, the outbox path, the first batches of a growing history) and records its ratios through
bench/scoreboard.py; this script runs them with BENCH_FIGURES set and prints one row per figure, with the backend,
the size of data, the target and whether it was met. README.md's "Speed" section carries the latest table. Run
from the repository with its .venv:

    .venv/bin/python bench/table.py [--quick] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
        [--redis redis://127.0.0.1:6379/0] [--only ingest,poll,...]

`--quick` uses small sizes (minutes in all); without it the sizes are the issue's (10k and 1M rows), which take
long to build.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def runs(quick: bool, postgres: str, redis: str) -> dict[str, list[str]]:
    """Each benchmark's command line, full or quick."""
    size = (lambda small, large: small if quick else large)  # noqa: E731
    return {
        "ingest": ["bench/ingest.py", "--contacts", size("1000,10000", "10000,100000"), "--seconds",
                   size("4", "9"), "--postgres", postgres],
        "stages": ["bench/intake_stages.py", "--batches", size("4", "12"), "--singles", size("50", "500"), "--history",
                   "50", "--contacts", size("1000", "10000"), "--postgres", postgres],
        "fairness": ["bench/fairness.py", "--seconds", size("8", "15")],
        "fairness-pg": ["bench/fairness.py", "--seconds", size("8", "15"), "--postgres", postgres],
        "backlog": ["bench/backlog.py", "--rounds", size("2", "3")],
        "backlog-pg": ["bench/backlog.py", "--rounds", size("2", "3"), "--postgres", postgres],
        "poll": ["bench/poll.py", "--sizes", size("10000,100000", "10000,1000000"), "--requests", size("500", "2000"),
                 "--hooks", "0"],
        "poll-pg": ["bench/poll.py", "--sizes", size("10000,100000", "10000,1000000"), "--requests",
                    size("500", "2000"), "--hooks", "0", "--postgres", postgres],
        "metrics": ["bench/metrics.py", "--messages", size("20000", "1000000"), "--runs", size("3", "5")],
        "metrics-pg": ["bench/metrics.py", "--messages", size("20000", "1000000"), "--runs", size("3", "5"),
                       "--postgres", postgres],
        "dispatch": ["bench/dispatch.py", "--postgres", postgres, "--redis", redis, "--sends-only", "--enrollments",
                     size("2000", "10000"), "--due", size("1000", "10000")],
        "clock": ["bench/clock.py", "--contacts", size("100", "300"), "--postgres", postgres],
        "worker": ["bench/worker.py", "--events", size("1000", "2000"), "--postgres", postgres],
    }


def table(lines: list[dict]) -> str:
    """The gathered figures as one Markdown table."""
    rows = ["| area | figure | backend | size | value | target | met |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for line in lines:
        met = {True: "yes", False: "**no**", None: ""}[line["met"]]
        value = line["value"]
        shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
        rows.append(f"| {line['area']} | {line['figure']} | {line['backend']} | {line['size']} | {shown} "
                    f"| {line['target']} | {met} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", default="", help="comma-separated benchmarks to run (default: all)")
    args = parser.parse_args()
    chosen = runs(args.quick, args.postgres, args.redis)
    wanted = [name for name in args.only.split(",") if name] or list(chosen)
    unknown = set(wanted) - set(chosen)
    if unknown:
        parser.error(f"no benchmark {', '.join(sorted(unknown))}; choose from {', '.join(chosen)}")
    with tempfile.TemporaryDirectory() as scratch:
        figures = Path(scratch) / "figures.jsonl"
        figures.touch()
        failed = []
        for name in wanted:
            started = time.monotonic()
            print(f"== {name}: {' '.join(chosen[name])}", file=sys.stderr, flush=True)
            done = subprocess.run([sys.executable, *chosen[name]], cwd=ROOT, check=False,
                                  env={**os.environ, "BENCH_FIGURES": str(figures)})
            print(f"== {name}: exit {done.returncode} after {time.monotonic() - started:.0f} s", file=sys.stderr)
            if done.returncode:
                failed.append(name)
        lines = [json.loads(line) for line in figures.read_text().splitlines() if line.strip()]
    print(table(lines))
    if failed:
        print(f"\nFailed to run: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
