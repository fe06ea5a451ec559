"""Who should reach out, how, with what; and when a deal goes beyond its owner (escalations)."""

from dataclasses import dataclass
from decimal import Decimal

from reengage.platform.rendering import money

MESSENGERS = {"ae": "Original AE", "ae_with_se": "Original AE with SE support",
              "executive": "Executive sponsor with the original AE"}
CHANNELS = {"email": "Email", "linkedin": "LinkedIn task", "call": "Call"}
ESCALATIONS = {"executive": "Executive involvement", "strategy_review": "Strategy review",
               "competitor_trouble": "Competitor trouble"}
# What to bring, by the loss's category and by the signals since.
CATEGORY_CONTENT = {
    "price": "An ROI summary at today's pricing, with payment options",
    "feature_gap": "A short demo of what now covers the gap",
    "timing": "A brief on what similar teams prioritise this quarter",
    "competition": "A side-by-side comparison and a migration plan",
    "internal_champion": "A one-page brief for the new stakeholders",
    "technical_fit": "An architecture review with a solutions engineer",
    "trust": "A note from an executive and two customer references",
}
SIGNAL_CONTENT = {
    "funding": "How comparable companies scaled after a raise",
    "competitor_trouble": "A switching offer for teams leaving {competitor}",
    "decision_maker_change": "An introduction tailored to the new role",
}


@dataclass(frozen=True)
class Recommendation:
    messenger: str
    channel: str
    content: list[str]

    def shown(self, owner: str | None) -> dict:
        """As stored on the deal and shown by the API."""
        return {"messenger": self.messenger, "messenger_label": MESSENGERS[self.messenger], "owner": owner,
                "channel": self.channel, "channel_label": CHANNELS[self.channel], "content": self.content}


def arr_of(arr: Decimal | None, amount: Decimal | None) -> Decimal | None:
    """The ARR potential: the deal's ARR, else its amount."""
    return arr if arr is not None else amount


def recommend(category: str | None, kinds: set[str], over_threshold: bool, competitor: str | None,
              updates: list[str]) -> Recommendation:
    """The messenger, channel and content for a deal of `category` with signals of `kinds`."""
    if over_threshold or category == "trust":
        messenger = "executive"
    elif category in ("feature_gap", "technical_fit") or "product_update" in kinds:
        messenger = "ae_with_se"
    else:
        messenger = "ae"
    if messenger == "executive" or "relationship_warmth" in kinds:
        channel = "call"  # a relationship worth a call, or a senior voice
    elif category == "internal_champion" and "decision_maker_change" in kinds:
        channel = "linkedin"  # new people to meet before writing to them
    else:
        channel = "email"
    content = [f"The release notes of {name}" for name in updates]
    if category in CATEGORY_CONTENT:
        content.append(CATEGORY_CONTENT[category])
    content += [SIGNAL_CONTENT[kind].format(competitor=competitor or "their vendor")
                for kind in SIGNAL_CONTENT if kind in kinds]
    return Recommendation(messenger, channel, content)


def escalations(arr: Decimal | None, currency: str | None, kinds: dict[str, str], failed_attempts: int,
                settings: dict, competitor: str | None) -> dict[str, str]:
    """The escalations a deal calls for, by kind, with their reasons. `kinds` maps signal kinds to a summary."""
    raised = {}
    threshold = Decimal(str(settings["executive_arr_threshold"]))
    if arr is not None and arr > threshold:
        raised["executive"] = (f"ARR potential {money(arr, currency or 'USD')} is above "
                               f"{money(threshold, currency or 'USD')}")
    if failed_attempts >= settings["failed_attempts_for_review"]:
        raised["strategy_review"] = f"{failed_attempts} win-back attempts failed"
    if "competitor_trouble" in kinds:
        raised["competitor_trouble"] = f"{competitor or 'The competitor'}: {kinds['competitor_trouble']}"
    return raised
