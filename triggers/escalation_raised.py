"""Escalation Raised: a lost deal needs someone beyond its owner (an executive, a strategy review) or a flag."""

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, select

from reengage.models import Deal, Escalation
from reengage.schemas.compiled import dumper
from reengage.schemas.deal import DealSchema
from reengage.winback.strategy import ESCALATIONS
from triggers.polling import Filter, Trigger, equal, rows


class EscalationDeal(DealSchema):
    """The deal an escalation is about."""

    class Meta:
        fields = ("id", "external_id", "name", "company", "owner", "owner_id", "amount", "arr", "currency",
                  "category", "priority", "failed_attempts", "competitor")


class EscalationItem(Schema):
    """An escalation and the deal it is about."""

    id = fields.Integer(metadata={"description": "The escalation's id (one per deal and kind)."})
    kind = fields.String(metadata={"enum": list(ESCALATIONS)})
    label = fields.String()
    reason = fields.String()
    raised_at = fields.AwareDateTime()
    deal = fields.Nested(EscalationDeal)


_ITEM = dumper(EscalationItem())


def query(account_id: int) -> Select[int]:
    """The account's escalations (joined to their deals, which the `owner` filter reads)."""
    return (select(Escalation.id).join(Deal, Deal.id == Escalation.deal_id)
            .where(Escalation.account_id == account_id))


def render(ids: list[int]) -> list[dict[str, Any]]:
    """Each escalation with the deal it is about."""
    escalations = rows(Escalation, ids)
    deals = rows(Deal, {escalation["deal_id"] for escalation in escalations.values()}, *EscalationDeal.Meta.fields[1:])
    return [_ITEM({"id": escalation["id"], "kind": escalation["kind"], "label": ESCALATIONS[escalation["kind"]],
                   "reason": escalation["reason"], "raised_at": escalation["raised_at"],
                   "deal": deals[escalation["deal_id"]]})
            for escalation in (escalations[id_] for id_ in ids if id_ in escalations)]


TRIGGER = Trigger(
    key="escalation.raised",
    noun="Escalation",
    label="Escalation Raised",
    description="Triggers when a closed-lost deal is escalated: ARR potential above the account's threshold "
                "(executive), repeated failed win-back attempts (strategy review), or its competitor shows trouble.",
    filters=(
        Filter("kind", fields.String(validate=validate.OneOf(ESCALATIONS)), equal(Escalation.kind),
               description="Only escalations of this kind."),
        Filter("owner", fields.String(), equal(Deal.owner), item="deal.owner", description="Only deals of this owner."),
    ),
    order=(Escalation.raised_at, Escalation.id),
    item=EscalationItem,
    sample={
        "id": 3, "kind": "executive", "label": "Executive involvement",
        "reason": "ARR potential $620,000.00 is above $500,000.00", "raised_at": "2026-06-02T09:00:00+00:00",
        "deal": {"id": 12, "external_id": "D-2024-0315", "name": "Globex data platform", "company": "Globex",
                 "owner": "Jordan Lee", "owner_id": "512", "amount": 620000.0, "arr": 620000.0, "currency": "USD",
                 "category": "competition", "priority": "medium", "failed_attempts": 0, "competitor": "StreamCo"},
    },
    query=query,
    render=render,
)
