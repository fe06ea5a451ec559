"""Accuracy of the loss-reason reader on the labelled sets in tests/winback/data/, per category and overall.

`loss_reasons.tsv` is the set the lexicon was written against; `loss_reasons_holdout.tsv` was written
apart and never used to tune it, so its figure shows how the reader does on wording it has not seen.
A secondary factor counts as found when it is among the analysis's other categories.

    .venv/bin/python bench/loss_reasons.py [-v]   # -v lists every miss
"""

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reengage.winback import analysis
from tests.winback.labelled import SETS, load


def measure(name: str, verbose: bool) -> float:
    """Print one set's accuracy per category, overall and on secondary factors; answer the overall share."""
    total, right, secondary_total, secondary_found = Counter(), Counter(), 0, 0
    for item in load(name):
        found = analysis.analyse(item.reason)
        got = found.category or "unknown"
        total[item.category] += 1
        right[item.category] += got == item.category
        secondary_total += len(item.secondary)
        secondary_found += sum(s in found.secondary for s in item.secondary)
        if verbose and got != item.category:
            print(f"  {item.category:>17} <- {got:<17} {item.reason}")
    print(f"{name}: {sum(total.values())} reasons")
    for category in [*analysis.CATEGORIES, "unknown"]:
        if total[category]:
            print(f"  {category:<18} {right[category]:>3}/{total[category]:<3} "
                  f"{right[category] / total[category]:6.1%}")
    overall = sum(right.values()) / sum(total.values())
    print(f"  {'overall':<18} {sum(right.values()):>3}/{sum(total.values()):<3} {overall:6.1%}")
    if secondary_total:
        share = secondary_found / secondary_total
        print(f"  {'secondary found':<18} {secondary_found:>3}/{secondary_total:<3} {share:6.1%}")
    return overall


if __name__ == "__main__":
    for name in SETS:
        measure(name, "-v" in sys.argv)
