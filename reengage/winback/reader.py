"""Reading free text as word stems, and finding the lexicon's phrases in it.

Text is first put in plain words as a person would read it: CRM shorthand written out ("w/" is "with",
"FY" "fiscal year", "b/c" "because", "mgmt" "management"), contractions opened ("we'd" is "we would",
"didnt" "did not"), a hyphenated word joined where the lexicon knows it whole ("re-org") and split
otherwise ("add-in", "drag-and-drop"). Words are then cut to their Snowball (Porter 2) stems after
irregular forms are mapped to their base ("went" to "go", "chose" to "choose"), so "priced", "pricing"
and "prices" meet the cue "price". A word of five letters or more that is neither the lexicon's nor an
English word (pyspellchecker's list) is read as the lexicon's word one edit away (two from eight letters,
rapidfuzz's optimal string alignment distance), when exactly one is: "expensve" as "expensive"; the
evidence shows both. A phrase may hold `*` (any one word) and `~` (up to three words). A longer phrase
claims its words first: "data migration" is a technical matter, though "migration" alone speaks of timing.
"""

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

from reengage.winback.lexicon import CUES, IRREGULAR, WHOLE

_STEMMER = snowballstemmer.stemmer("english")
# Shorthand written with a slash or sign, read before words are split.
_SIGNS = ((r"\bw/o\b", " without "), (r"\bw/(?=\s|[a-z])", " with "), (r"\bb/c\b", " because "),
          (r"\bn/a\b", " na "), (r"\bm&a\b", " merger "), (r"\bfy\s?'?(?:20)?\d\d\b", " fiscal year "),
          (r"\b(q[1-4])\s?'?(?:20)?\d\d\b", r" \1 "))
# Contractions read as two words, so "couldn't" is "could not"; written without the apostrophe too.
_CONTRACTIONS = ((r"\bwon't\b", "will not"), (r"\bcan't\b|\bcannot\b|\bcant\b", "can not"), (r"n't\b", " not"),
                 (r"\b(did|do|does|could|would|should|was|were|is|are|has|have|had|need|must)nt\b", r"\1 not"),
                 (r"'re\b", " are"), (r"'ll\b", " will"), (r"'ve\b", " have"), (r"'d\b", " would"), (r"'m\b", " am"),
                 (r"'s\b", ""))
# Shorthand of one word, and the words it stands for.
SHORTHAND = {
    "fy": "fiscal year", "yr": "year", "yrs": "years", "mos": "months", "mths": "months", "qtr": "quarter",
    "qtrs": "quarters", "eoy": "end of year", "eoq": "end of quarter", "h1": "first half", "mgmt": "management",
    "mgr": "manager", "mgrs": "managers", "dept": "department", "execs": "executives", "cuz": "because",
    "coz": "because", "bc": "because", "thru": "through", "ppl": "people", "govt": "government",
    "tco": "total cost of ownership", "reqs": "requirements", "req": "requirement", "impl": "implementation",
    "perf": "performance", "devs": "developers", "dev": "developer", "eng": "engineering", "sfdc": "salesforce",
    "msft": "microsoft", "biz": "business", "mtg": "meeting", "cust": "customer", "custs": "customers",
    "acct": "account", "amt": "amount", "bdgt": "budget", "feat": "feature", "feats": "features",
    "func": "functionality", "integ": "integration", "lic": "licence", "pct": "percent", "ooo": "out of office",
    "pto": "leave", "w": "with", "wo": "without", "b4": "before", "til": "until", "till": "until",
    "proc": "procurement", "sec": "security", "infra": "infrastructure", "config": "configuration",
    "onprem": "on prem", "prem": "premise", "cxo": "executive", "svp": "vp", "evp": "vp", "avp": "vp",
    "mkt": "marketing", "mktg": "marketing", "ops": "operations", "w/e": "whatever",
}
# The other way round: written out, read as the lexicon's short form.
_LONGHAND = ((r"\bproofs? of concepts?\b", "poc"), (r"\bpilot\b", "poc"), (r"\breturn on investment\b", "roi"))
_WORD = re.compile(r"\$|%|[a-z0-9]+(?:[.'][a-z0-9]+)*")
_HYPHENATED = re.compile(r"\b([a-z]+)-([a-z]+)\b")
GAP = 3
# A word this long may be read as a lexicon word it is one edit from (two from the longer length).
TYPO_MIN, TYPO_TWO = 5, 8


@dataclass(frozen=True)
class Found:
    """A cue found in a text: its category (None for a phrase that only claims its words), weight and words."""

    category: str | None
    weight: float
    start: int
    end: int
    words: str


def words(text: str) -> list[str]:
    """The text's words in lower case, shorthand and contractions written out; "IT" (the department) kept apart."""
    text = re.sub(r"\bIT\b", " itdept ", text or "").lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, replacement in (*_SIGNS, *_CONTRACTIONS, *_LONGHAND):
        text = re.sub(pattern, replacement, text)
    text = _HYPHENATED.sub(_hyphenated, text)
    said = []
    for word in _WORD.findall(re.sub(r"[-_/]", " ", text)):
        said += SHORTHAND.get(word, word).split()
    return said


def _hyphenated(match: re.Match) -> str:
    """A hyphenated word whole when the lexicon knows it whole ("re-org", "co-founder"), else as two words."""
    whole = match.group(1) + match.group(2)
    return whole if stem(whole) in _vocabulary()[1] else f"{match.group(1)} {match.group(2)}"


@cache
def _vocabulary() -> tuple[tuple[str, ...], frozenset[str]]:
    """The lexicon's words long enough to be mistyped, and the stems of all its words."""
    plain = {word for phrases in CUES.values() for phrase in phrases
             for word in re.findall(r"[a-z][a-z0-9]*", phrase.partition(":")[0].lower())}
    stems = frozenset(stem(word) for word in plain) | frozenset(stem(word) for word in IRREGULAR)
    return tuple(sorted(word for word in plain if len(word) >= TYPO_MIN)), stems


@cache
def _english() -> dict[str, int]:
    """English words and their frequencies (pyspellchecker's list), loaded when a word is first not known."""
    from spellchecker import SpellChecker

    return SpellChecker(distance=1).word_frequency.dictionary


@lru_cache(maxsize=65536)
def corrected(word: str) -> str | None:
    """The lexicon word a mistyped word stands for ("expensve": "expensive"), or None.

    Only for a word of five letters or more that is neither an English word nor the lexicon's, and only when
    one lexicon word is nearest, one edit away (two for eight letters or more), with the same first letter.
    """
    if len(word) < TYPO_MIN or not word.isalpha() or stem(word) in _vocabulary()[1] or word in _english():
        return None
    limit = 1 if len(word) < TYPO_TWO else 2
    near = [(found, distance) for found, distance, _ in
            process.extract(word, _vocabulary()[0], scorer=OSA.distance, score_cutoff=limit, limit=5)
            if found[0] == word[0]]
    if not near:
        return None
    best = min(distance for _, distance in near)
    nearest = {stem(found) for found, distance in near if distance == best}
    # Of words with one stem ("expense", "expensive"), the longer: a typo more often drops a letter.
    return max((found for found, distance in near if distance == best), key=len) if len(nearest) == 1 else None


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
    stems = []
    for i, word in enumerate(said):
        stems.append(forms(word))
        typo = corrected(word)
        if typo is not None:
            stems[-1] = forms(typo)
            said[i] = f"{word} ({typo})"
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
