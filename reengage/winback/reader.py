"""Reading free text as word stems, and finding the lexicon's phrases in it.

Words are cut to their Snowball (Porter 2) stems after irregular forms are mapped to their base
("went" to "go", "chose" to "choose"), so "priced", "pricing" and "prices" meet the cue "price". A
phrase may hold `*` (any one word) and `~` (up to three words). A longer phrase claims its words
first: "data migration" is a technical matter, though "migration" alone speaks of timing.
"""

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer

from reengage.winback.lexicon import CUES, IRREGULAR, WHOLE

_STEMMER = snowballstemmer.stemmer("english")
# Contractions read as two words, so "couldn't" is "could not".
_CONTRACTIONS = ((r"won't", "will not"), (r"can't|cannot", "can not"), (r"n't\b", " not"), (r"'re\b", " are"),
                 (r"'ll\b", " will"), (r"'ve\b", " have"), (r"'s\b", ""))
_WORD = re.compile(r"\$|%|[a-z0-9]+(?:[.'][a-z0-9]+)*")
GAP = 3


@dataclass(frozen=True)
class Found:
    """A cue found in a text: its category (None for a phrase that only claims its words), weight and words."""

    category: str | None
    weight: float
    start: int
    end: int
    words: str


def words(text: str) -> list[str]:
    """The text's words in lower case; "IT" (the department) kept apart from "it"."""
    text = re.sub(r"\bIT\b", " itdept ", text or "").lower()
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    return _WORD.findall(re.sub(r"[-_/]", " ", text))


@lru_cache(maxsize=65536)
def forms(word: str) -> tuple[str, ...]:
    """The stem of a word, then of the word it is made from ("risky" from "risk", "unaffordable" from "afford").

    In that order, always: where cues of two forms cover the same words, the word's own stem wins
    ("financially" before "finance"), the same in every run.
    """
    found = [stem(word)]
    for prefix in ("un", "over", "in"):
        if word.startswith(prefix) and len(word) > len(prefix) + 3:
            found.append(stem(word[len(prefix):]))
    found += [form[:-1] for form in found if form.endswith("i") and len(form) > 3]
    return tuple(dict.fromkeys(found))


def stem(word: str) -> str:
    """A word's stem, irregular forms first mapped to their base."""
    if word in WHOLE or word.startswith("$"):
        return word
    return _STEMMER.stemWord(IRREGULAR.get(word, word))


@cache
def _compiled() -> dict[str, list[tuple[str | None, float, tuple[str, ...]]]]:
    """The cues by the stem of their first word."""
    cues: dict[str, list[tuple[str | None, float, tuple[str, ...]]]] = {}
    for category, phrases in CUES.items():
        for phrase in phrases:
            text, _, weight = phrase.partition(":")
            pattern = tuple(stemmed for part in text.split()
                            for stemmed in ([part] if part in ("*", "~") else map(stem, words(part))))
            cues.setdefault(pattern[0], []).append((category, float(weight or 1), pattern))
    return cues


def _match(pattern: tuple[str, ...], stems: list[tuple[str, ...]], start: int) -> int | None:
    """The end of `pattern` matched at `start`, else None."""
    at = start
    for i, part in enumerate(pattern):
        if part == "~":
            for skip in range(GAP + 1):
                end = _match(pattern[i + 1:], stems, at + skip) if at + skip <= len(stems) else None
                if end is not None:
                    return end
            return None
        if at >= len(stems) or (part != "*" and part not in stems[at]):
            return None
        at += 1
    return at


def find(text: str | None) -> list[Found]:
    """The cues in `text`, each word claimed by one cue at most, longest phrase first."""
    said = words(text or "")
    stems = [forms(word) for word in said]
    cues = _compiled()
    matches = []
    for start, candidates in enumerate(stems):
        for first in candidates:
            for category, weight, pattern in cues.get(first, ()):
                end = _match(pattern, stems, start)
                if end is not None:
                    matches.append((-sum(part != "~" for part in pattern), start, end, category, weight))
    claimed: set[int] = set()
    found = []
    for _, start, end, category, weight in sorted(matches, key=lambda match: match[:3]):
        if claimed.intersection(range(start, end)):
            continue
        claimed.update(range(start, end))
        if category is not None:
            found.append(Found(category, weight, start, end, " ".join(said[start:end])))
    return sorted(found, key=lambda cue: cue.start)
