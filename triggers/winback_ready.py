"""Win-back Ready: a lost deal's re-engagement window opened with high or medium priority."""

from typing import Any

from marshmallow import fields, validate
from sqlalchemy import Select, select

from reengage import samples
from reengage.models import Deal
from reengage.models.deal import PRIORITIES, READY
from reengage.schemas.compiled import dumper
from reengage.schemas.contact import ContactSchema
from reengage.schemas.deal import DealSchema
from reengage.winback.analysis import CATEGORIES
from triggers.polling import Filter, Trigger, contacts, equal, rows


class WinbackItem(DealSchema):
    """A deal ready for a win-back, with what to do and what to say."""

    class Meta:
        fields = ("id", "external_id", "name", "company", "owner", "owner_id", "amount", "arr", "currency", "lost_at",
                  "loss_reason", "category", "priority", "score", "score_reasons", "timing", "window_start",
                  "window_end", "ready_at", "messenger", "channel", "content", "draft_subject", "draft_text",
                  "contact")

    messenger = fields.String(attribute="recommendation.messenger")
    channel = fields.String(attribute="recommendation.channel")
    content = fields.List(fields.String(), attribute="recommendation.content")
    draft_subject = fields.String(attribute="draft.subject", allow_none=True)
    draft_text = fields.String(attribute="draft.text", allow_none=True)
    contact = fields.Nested(ContactSchema, allow_none=True)


_ITEM = dumper(WinbackItem())


def query(account_id: int) -> Select[int]:
    """The account's ready deals (the partial index's predicate, word for word)."""
    return select(Deal.id).where(Deal.account_id == account_id, READY)


def render(ids: list[int]) -> list[dict[str, Any]]:
    """Each deal with its primary contact (none when it has none)."""
    deals = rows(Deal, ids)
    people = contacts({deal["contact_id"] for deal in deals.values()} - {None})
    return [_ITEM({**deals[id_], "contact": people.get(deals[id_]["contact_id"])}) for id_ in ids if id_ in deals]


TRIGGER = Trigger(
    key="winback.ready",
    noun="Win-back",
    label="Win-back Ready",
    description="Triggers when a closed-lost deal is worth another try now: its window has opened and its readiness "
                "score makes it high or medium priority. Carries the recommendation and the draft.",
    filters=(
        Filter("priority", fields.String(validate=validate.OneOf(PRIORITIES)), equal(Deal.priority),
               description="Only deals of this priority."),
        Filter("category", fields.String(validate=validate.OneOf(CATEGORIES)), equal(Deal.category),
               description="Only deals lost for this reason."),
        Filter("owner", fields.String(), equal(Deal.owner), description="Only deals of this owner."),
    ),
    order=(Deal.ready_at, Deal.id),
    item=WinbackItem,
    sample={
        "id": 12, "external_id": "D-2024-0315", "name": "DataTech analytics platform", "company": "DataTech",
        "owner": "Jordan Lee", "owner_id": "512", "amount": 180000.0, "arr": 180000.0, "currency": "USD",
        "lost_at": "2026-03-15T00:00:00+00:00", "loss_reason": "Feature gap: real-time analytics",
        "category": "feature_gap", "priority": "high", "score": 5,
        "score_reasons": [{"signal": "funding", "label": "Company growth or funding", "points": 2,
                           "summary": "your Series B"}],
        "timing": "immediate", "window_start": "2026-04-20T00:00:00+00:00", "window_end": "2026-07-20T00:00:00+00:00",
        "ready_at": "2026-06-02T09:00:00+00:00", "messenger": "ae_with_se", "channel": "email",
        "content": ["The release notes of Streaming Analytics", "A short demo of what now covers the gap"],
        "draft_subject": "Streaming Analytics for DataTech", "draft_text": "Hi Sarah, ...",
        "contact": samples.DEAL_CONTACT,
    },
    query=query,
    render=render,
)
