"""Loss analysis: the primary reason a deal was lost, in one of seven categories, with a confidence and the rest.

Words in the CRM's loss reason count three times as much as words in the notes; a named competitor
adds to competition. A category the caller states wins over the words, and a correction the account
makes wins over both and is kept through later syncs.
"""

import re
from dataclasses import dataclass, field
from functools import cache

# The seven categories, their labels, and the word stems that point to them.
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "price": ("Price/budget", ("price", "pricing", "budget", "cost", "expensive", "afford", "discount", "cheaper")),
    "feature_gap": ("Feature gap", ("feature", "functionality", "capabilit", "missing", "gap", "roadmap", "lacked",
                                    "lacks", "not support")),
    "timing": ("Timing", ("timing", "not now", "later", "next year", "next quarter", "priorities", "on hold",
                          "freeze", "postpone", "bad time", "right time", "wrong time")),
    "competition": ("Competition", ("competitor", "competition", "went with", "chose", "incumbent", "another vendor",
                                    "other vendor")),
    "internal_champion": ("Internal champion", ("champion", "left the company", "decision maker", "reorg", "sponsor",
                                                "new leadership", "stakeholder")),
    "technical_fit": ("Technical fit", ("technical", "integration", "security", "compliance", "architecture",
                                        "scalab", "performance", "fit")),
    "trust": ("Trust/relationship", ("trust", "relationship", "reputation", "references", "unresponsive",
                                     "credibility")),
}
REASON_WEIGHT, NOTES_WEIGHT, COMPETITOR_WEIGHT = 3, 1, 2


@dataclass(frozen=True)
class Analysis:
    """What the analysis made of a loss."""

    category: str | None
    source: str  # stated, corrected, inferred, or none (nothing pointed anywhere)
    confidence: float
    secondary: list[str] = field(default_factory=list)


def normalise(text: str | None) -> str:
    """Lower case, dashes and underscores as spaces, single spaces: the form words are matched in."""
    return " ".join(re.sub(r"[-_/]", " ", (text or "").lower()).split())


@cache
def _pattern(category: str) -> re.Pattern:
    stems = CATEGORIES[category][1]
    return re.compile(r"\b(?:" + "|".join(re.escape(stem) for stem in stems) + ")")


def weights(reason: str | None, notes: str | None = None, competitor: str | None = None) -> dict[str, int]:
    """Each category's weight of evidence in the reason, the notes and the competitor field."""
    reason_text, notes_text = normalise(reason), normalise(notes)
    found = {}
    for category in CATEGORIES:
        pattern = _pattern(category)
        weight = REASON_WEIGHT * len(pattern.findall(reason_text)) + NOTES_WEIGHT * len(pattern.findall(notes_text))
        if category == "competition" and competitor:
            weight += COMPETITOR_WEIGHT
        if weight:
            found[category] = weight
    return found


def analyse(reason: str | None, notes: str | None = None, competitor: str | None = None,
            stated: str | None = None, corrected: str | None = None) -> Analysis:
    """The primary category (the correction, else the stated one, else the strongest evidence) and the others."""
    found = weights(reason, notes, competitor)
    ranked = sorted(found, key=lambda category: -found[category])  # stable: ties keep the catalogue's order
    for chosen, source in ((corrected, "corrected"), (stated, "stated")):
        if chosen:
            return Analysis(chosen, source, 1.0, [c for c in ranked if c != chosen])
    if not ranked:
        return Analysis(None, "none", 0.0)
    top, total = found[ranked[0]], sum(found.values())
    # Share of the evidence, and how much evidence there is (one word in the reason is enough for full strength).
    confidence = round(0.5 * top / total + 0.45 * min(1.0, top / REASON_WEIGHT), 2)
    return Analysis(ranked[0], "inferred", confidence, ranked[1:])


def category_of(text: object) -> str | None:
    """The category a loss reason's text points to most, or None."""
    return analyse(text if isinstance(text, str) else None).category


def label(category: str | None) -> str:
    """The category's label ('Unknown' for none)."""
    return CATEGORIES[category][0] if category in CATEGORIES else "Unknown"
