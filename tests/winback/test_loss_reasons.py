"""The loss-reason reader against the labelled sets, and the evidence a deal shows for its category."""

import pytest

from reengage.winback import analysis
from tests.support.deals import post_deal
from tests.winback.labelled import SETS, load


def accuracy(name: str, category: str | None = None) -> float:
    items = [item for item in load(name) if category in (None, item.category)]
    return sum((analysis.analyse(item.reason).category or "unknown") == item.category for item in items) / len(items)


def test_the_labelled_sets_are_large_and_cover_every_category_and_unknown():
    written, held_out = (load(name) for name in SETS)
    assert len(written) >= 300 and len(held_out) >= 100
    for items in (written, held_out):
        assert {item.category for item in items} == {*analysis.CATEGORIES, "unknown"}
    assert sum(bool(item.secondary) for item in written) >= 10
    assert not {item.reason for item in written} & {item.reason for item in held_out}


def test_the_reader_files_the_set_it_was_written_against():
    assert accuracy(SETS[0]) >= 0.95


@pytest.mark.parametrize("category", [*analysis.CATEGORIES, "unknown"])
def test_the_reader_files_nine_in_ten_of_each_category_of_the_set_it_was_written_against(category):
    assert accuracy(SETS[0], category) >= 0.90


def test_the_reader_keeps_its_first_reading_of_the_held_out_set():
    # Wording the lexicon never saw (bench/loss_reasons.py prints it per category). The present set read 88.2%
    # when first measured, short of the 90% aimed at; it is not tuned on, so this only guards against losing ground.
    assert accuracy(SETS[1]) >= 0.88


def test_the_reader_reads_the_same_in_every_run():
    # Cues that cover the same word are tried in one order, whatever the process's string hashing.
    from reengage.winback import reader

    assert reader.forms("financially") == (reader.stem("financially"), reader.stem("finance"))
    found = analysis.analyse("Financially not viable right now")
    assert found.category == "price"
    assert [(item["words"], item["weight"]) for item in found.evidence] == [("financially", 9), ("right now", 6)]


@pytest.mark.parametrize(("reason", "category"), [
    ("No real-time analytics; they need streaming dashboards", "feature_gap"),
    ("Couldn't justify the spend", "price"),
    ("Procurement froze all new vendors", "timing"),
    ("They picked Looker", "competition"),
    ("Sarah moved to a different role and nobody picked it up", "internal_champion"),
    ("Lost", None),
])
def test_the_issues_examples_are_read_as_a_person_reads_them(reason, category):
    assert analysis.analyse(reason).category == category


def test_a_deal_shows_the_words_its_category_was_read_from(client, acme):
    deal = post_deal(client, acme, loss_reason="Couldn't justify the spend", notes="they went with Looker",
                     competitor="Looker")
    assert deal["category"] == "price" and deal["secondary"] == ["competition"]
    evidence = {(item["category"], item["words"], item["source"]) for item in deal["category_evidence"]}
    assert ("price", "justify the spend", "reason") in evidence
    assert ("competition", "went with", "notes") in evidence and ("competition", "Looker", "competitor") in evidence


def test_the_draft_phrases_each_signal_with_its_summary_as_detail(client, acme):
    from datetime import timedelta

    from tests.support.deals import LOST, signal

    deal = post_deal(client, acme, loss_reason="They picked Looker", competitor="Looker",
                     contacts=[{"email": "sam@example.com", "first_name": "Sam"}])
    at = LOST + timedelta(days=30)
    signal(client, acme, deal["id"], "funding", "Raised a $40M Series B", at)
    signal(client, acme, deal["id"], "budget_cycle", "FY27 budget opens in April", at)
    signal(client, acme, deal["id"], "competitor_trouble", "Looker raised prices 30%", at)
    shown = signal(client, acme, deal["id"], "decision_maker_change", "your promotion to VP of Data", at)
    parts = {part["part"]: part["text"] for part in shown["draft"]["parts"]}
    assert parts["acknowledgement"].startswith("Congratulations on your new funding (raised a $40M Series B) and "
                                               "your promotion to VP of Data!")
    assert "Raised a" not in shown["draft"]["text"] and "on Raised" not in shown["draft"]["text"]
    assert parts["what_changed"] == ("Since then, a new budget cycle has begun on your side (FY27 budget opens in "
                                     "April); we have heard of changes at Looker (Looker raised prices 30%).")


def test_the_reader_writes_out_shorthand_contractions_and_hyphenated_words():
    from reengage.winback import reader

    assert reader.words("Went w/ Salesforce b/c FY26 mgmt") == [
        "went", "with", "salesforce", "because", "fiscal", "year", "management"]
    assert reader.words("We\u2019d wait, didnt re-org, no add-in") == [
        "we", "would", "wait", "did", "not", "reorg", "no", "add", "in"]


def test_a_mistyped_word_is_read_as_the_lexicon_word_and_the_evidence_shows_both():
    from reengage.winback import reader

    found = analysis.analyse("Too expensve for them")
    assert found.category == "price" and found.evidence[0]["words"] == "expensve (expensive)"
    # Short words and English words are never corrected.
    assert reader.corrected("cost") is None and reader.corrected("could") is None
