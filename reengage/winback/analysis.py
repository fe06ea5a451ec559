"""Loss analysis: the primary reason a deal was lost, in one of seven categories, with a confidence and the rest.

The loss reason and the notes are read through the lexicon (reengage.winback.lexicon): each phrase found
adds its weight to its category, three times over in the CRM's loss reason, once in the notes; a named
competitor adds to competition. `evidence` says which words counted. A category the caller states wins over
the words, and a correction the account makes wins over both and is kept through later syncs.
"""

import re
from dataclasses import dataclass, field

from reengage.winback import reader

# The seven categories and their labels.
CATEGORIES: dict[str, str] = {
    "price": "Price/budget", "feature_gap": "Feature gap", "timing": "Timing", "competition": "Competition",
    "internal_champion": "Internal champion", "technical_fit": "Technical fit", "trust": "Trust/relationship",
}
REASON_WEIGHT, NOTES_WEIGHT, COMPETITOR_WEIGHT = 3, 0.5, 3
# Evidence this strong (one plain word in the loss reason) is full strength.
FULL = 2 * REASON_WEIGHT


@dataclass(frozen=True)
class Analysis:
    """What the analysis made of a loss."""

    category: str | None
    source: str  # stated, corrected, inferred, or none (nothing pointed anywhere)
    confidence: float
    secondary: list[str] = field(default_factory=list)
    # What counted: {category, words, source (reason, notes, competitor), weight}.
    evidence: list[dict] = field(default_factory=list)


def normalise(text: str | None) -> str:
    """Lower case, dashes and underscores as spaces, single spaces: the form words are matched in."""
    return " ".join(re.sub(r"[-_/]", " ", (text or "").lower()).split())


def evidence(reason: str | None, notes: str | None = None, competitor: str | None = None) -> list[dict]:
    """Each phrase found in the reason and the notes, and the competitor field, with the weight it adds."""
    found = [{"category": cue.category, "words": cue.words, "source": source, "weight": cue.weight * times}
             for source, text, times in (("reason", reason, REASON_WEIGHT), ("notes", notes, NOTES_WEIGHT))
             for cue in reader.find(text)]
    if competitor:
        found.append({"category": "competition", "words": competitor[:100], "source": "competitor",
                      "weight": COMPETITOR_WEIGHT})
    return found


def weights(reason: str | None, notes: str | None = None, competitor: str | None = None) -> dict[str, float]:
    """Each category's weight of evidence in the reason, the notes and the competitor field."""
    found: dict[str, float] = {}
    for item in evidence(reason, notes, competitor):
        found[item["category"]] = found.get(item["category"], 0) + item["weight"]
    return found


def analyse(reason: str | None, notes: str | None = None, competitor: str | None = None,
            stated: str | None = None, corrected: str | None = None) -> Analysis:
    """The primary category (the correction, else the stated one, else the strongest evidence) and the others."""
    items = evidence(reason, notes, competitor)
    found: dict[str, float] = {}
    for item in items:
        found[item["category"]] = found.get(item["category"], 0) + item["weight"]
    order = list(CATEGORIES)
    ranked = sorted(found, key=lambda category: (-found[category], order.index(category)))
    for chosen, source in ((corrected, "corrected"), (stated, "stated")):
        if chosen:
            return Analysis(chosen, source, 1.0, [c for c in ranked if c != chosen], items)
    if not ranked:
        return Analysis(None, "none", 0.0)
    top, total = found[ranked[0]], sum(found.values())
    # Share of the evidence, and how much evidence there is.
    confidence = round(0.5 * top / total + 0.45 * min(1.0, top / FULL), 2)
    return Analysis(ranked[0], "inferred", confidence, ranked[1:], items)


def category_of(text: object) -> str | None:
    """The category a loss reason's text points to most, or None."""
    return analyse(text if isinstance(text, str) else None).category


def label(category: str | None) -> str:
    """The category's label ('Unknown' for none)."""
    return CATEGORIES.get(category or "", "Unknown")
