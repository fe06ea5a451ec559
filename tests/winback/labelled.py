"""The labelled loss reasons of tests/winback/data/: the reader's tests and its benchmark read them."""

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
# Written against, and held out.
SETS = ("loss_reasons.tsv", "loss_reasons_holdout.tsv")


@dataclass(frozen=True)
class Labelled:
    """A loss reason as a person filed it: its category ("unknown" when nobody could tell) and secondary ones."""

    category: str
    secondary: tuple[str, ...]
    reason: str


def load(name: str) -> list[Labelled]:
    """The labelled reasons of one set, in file order."""
    items = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            category, secondary, reason = line.split("\t")
            items.append(Labelled(category, tuple(s for s in secondary.split(",") if s != "-"), reason))
    return items
