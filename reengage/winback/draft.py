"""The win-back draft: six parts (acknowledgement, what changed, value now, social proof, soft ask, easy out).

Each part is a template rendered in the same sandbox as flow steps, from what is known of the deal:
the contact, the loss, the signals since and the product updates that close its gap.
"""

import re
from typing import Any

from reengage.platform.rendering import render
from reengage.winback.score import SIGNALS

PARTS = ("acknowledgement", "what_changed", "value_now", "social_proof", "soft_ask", "easy_out")
# What the contact was missing, said back to them, by category.
NEEDS = {
    "price": "the budget did not stretch to it",
    "feature_gap": "{{ gap or 'a capability you needed' }} was missing",
    "timing": "the timing was wrong for your team",
    "competition": "you chose {{ competitor or 'another vendor' }}",
    "internal_champion": "the people driving the project changed",
    "technical_fit": "it did not fit your technical requirements",
    "trust": "we had not earned enough of your confidence",
}
VALUE = {
    "price": "Our pricing now has room for a smaller start, so {{ company }} could prove the value before "
             "committing the full budget.",
    "feature_gap": "It is built for exactly what you described, so {{ company }} could have it running without "
                   "the workarounds you were weighing.",
    "timing": "If your priorities have moved, we can start small and fit the rollout around your calendar.",
    "competition": "If {{ competitor or 'your current tool' }} has left gaps, a side-by-side look costs you little "
                   "and may save a lot.",
    "internal_champion": "For a team with new people at the table, a fresh look now takes less time than it did "
                         "then.",
    "technical_fit": "Our solutions engineer can walk your architecture with you and show where it now fits.",
    "trust": "We have changed how we work with customers, and I would like the chance to show you how.",
}
TEMPLATES = {
    "subject": "{% if update %}{{ update.name }} for {{ company }}{% else %}"
               "What has changed since {{ lost_month }}{% endif %}",
    "greeting": "Hi {{ first_name or 'there' }},",
    "acknowledgement": "{% if congratulations %}Congratulations on {{ congratulations | join(' and ') }}! {% endif %}"
                       "When we last spoke in {{ lost_month }}, {{ company }} decided not to go ahead"
                       "{% if need %} because {{ need }}{% endif %}, and I understood why.",
    "what_changed": "{% if update %}Since then we have launched {{ update.name }}"
                    "{% if update.summary %}: {{ update.summary }}{% endif %}."
                    "{% elif changes %}Since then, {{ changes | join('; ') }}."
                    "{% else %}A few things have moved on our side since then.{% endif %}",
    "value_now": "{{ value }}",
    "social_proof": "{% if story %}{{ story.customer }}{% if story.industry %}, also in {{ story.industry }},"
                    "{% endif %} {{ story.outcome }}.{% else %}Teams facing the same question have been getting "
                    "results from it this year.{% endif %}",
    "soft_ask": "Would a short 20-minute call in the next few weeks be worth it, to see whether this fits now?",
    "easy_out": "And if it is still not the moment, just say so: I will not chase, and you will have the update "
                "for when it is.",
    "signature": "Best,\n{{ sender }}",
}
# Signals said as congratulations in the acknowledgement; the others are told as what changed.
CONGRATULATE = ("funding", "decision_maker_change")
# How each kind of signal is said, its summary as the detail: (when the summary is already a phrase of its
# own, "your $50M Series B"; otherwise, the summary in brackets). Warmth is our own observation: no detail.
PHRASES = {
    "funding": ("{summary}", "your new funding ({detail})"),
    "decision_maker_change": ("{summary}", "the change in your leadership team ({detail})"),
    "product_update": ("{summary} is now part of the product", "we have shipped what was missing ({detail})"),
    "competitor_trouble": ("{summary}", "we have heard of changes at {vendor} ({detail})"),
    "budget_cycle": ("{summary} has begun", "a new budget cycle has begun on your side ({detail})"),
    "relationship_warmth": ("you have kept reading our updates", "you have kept reading our updates"),
}
# Capitalised first words that are no names.
COMMON = frozenset({"new", "next", "budget", "fiscal", "series", "your", "the", "a", "an", "their", "our", "won",
                    "got", "left", "hired", "promoted", "grew"})
# A summary that starts like this is a phrase of its own ("your promotion to VP of Data").
OWN_PHRASE = re.compile(r"^(your|the|a|an|their|our)\b", re.IGNORECASE)


def phrase(kind: str, summary: str | None, competitor: str | None = None) -> str:
    """A signal said in a sentence: its kind's words, with its summary as the detail (never pasted as a verb)."""
    own, detailed = PHRASES.get(kind, ("{summary}", "{detail}"))
    text = " ".join((summary or "").split()).rstrip(".!")
    if not text or text.lower() == SIGNALS.get(kind, (0, ""))[1].lower():
        return re.sub(r" \(\{detail\}\)", "", detailed).format(vendor=competitor or "your current vendor")
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:].islower() and (first.endswith("ed") or first.lower() in COMMON):
        text = first.lower() + text[len(first):]  # "Raised a $40M Series B" reads lower mid-sentence; "Looker" not
    if OWN_PHRASE.match(text):
        return own.format(summary=re.sub(r"^their\b", "your", text))
    return detailed.format(detail=text, vendor=competitor or "your current vendor")


def context(deal, contact, signals: list, updates: list, stories: list[dict], sender: str) -> dict[str, Any]:
    """What the templates know: the deal, its contact, signals, the update closing the gap, a customer story."""
    industry = (deal.industry or "").lower()
    story = next((s for s in stories if (s.get("industry") or "").lower() == industry and industry), None) or (
        stories[0] if stories else None)
    update = updates[0] if updates else None
    values = {"company": deal.company or deal.name, "competitor": deal.competitor,
              "gap": (update.gaps[0].replace("-", " ") if update and update.gaps else None) or (
                  deal.gaps[0].replace("-", " ") if deal.gaps else None)}
    need = render(NEEDS[deal.category], values, "need") if deal.category in NEEDS else ""
    return {
        **values, "first_name": contact.first_name if contact else None,
        "lost_month": deal.lost_at.strftime("%B %Y"), "need": need,
        "congratulations": [phrase(s.kind, s.summary) for s in signals if s.kind in CONGRATULATE],
        "changes": [phrase(s.kind, s.summary, deal.competitor) for s in signals
                    if s.kind not in CONGRATULATE and not (s.kind == "product_update" and update)],
        "update": {"name": update.name, "summary": update.summary} if update else None,
        "value": render(VALUE.get(deal.category, "We would like to show you what it could do for {{ company }} "
                                                 "today."), values, "value"),
        "story": story, "sender": sender,
    }


def write(values: dict[str, Any]) -> dict[str, Any]:
    """The draft: subject, the parts in order (`[{part, text}]`: JSON objects keep no order), the whole text."""
    parts = {part: render(TEMPLATES[part], values, part) for part in PARTS}
    body = [render(TEMPLATES["greeting"], values, "greeting"), parts["acknowledgement"],
            f"{parts['what_changed']} {parts['value_now']}", parts["social_proof"],
            parts["soft_ask"], parts["easy_out"], render(TEMPLATES["signature"], values, "signature")]
    return {"subject": render(TEMPLATES["subject"], values, "subject"),
            "parts": [{"part": part, "text": text} for part, text in parts.items()], "text": "\n\n".join(body)}
