"""Metrics by a dropoff's own dimensions read from the rollups answer exactly what a scan of every dropoff does."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select, update

from reengage.models import Account, Contact, Dropoff, DropoffRollup, Enrollment, Flow
from reengage.platform import db
from reengage.results import dashboard, metrics, rollups

START = datetime(2026, 3, 1, 5, 30, tzinfo=UTC)


@pytest.fixture
def generated(app, acme, globex):
    """Three hundred dropoffs over ten days in two accounts, of mixed scenarios, stages, rules, currencies and
    states, with tallies and enrollments; then changed the ways the product changes them."""
    draw = random.Random(23)
    with app.app_context():
        with db.transaction() as session:
            flows = {account: session.scalar(insert(Flow).returning(Flow.id), {
                "account_id": account, "key": "sales", "name": "Sales", "description": "", "phases": [],
                "goal_events": [], "holdout_percent": 0, "settings": {}, "enabled": True})
                for account in (acme.id, globex.id)}
            for n in range(300):
                account = acme.id if n % 5 else globex.id
                contact = session.scalar(insert(Contact).returning(Contact.id), {
                    "account_id": account, "external_id": f"c{n}", "properties": {}, "consent": {}})
                at = START + timedelta(minutes=draw.randrange(10 * 24 * 60))
                recovered = draw.random() < 0.4
                dropoff = Dropoff(
                    account_id=account, rule_key=draw.choice(("r1", "r2")), contact_id=contact,
                    scenario=draw.choice(("sales.a", "sales.b", "onboarding.c")), stage=draw.choice(("s1", "s2")),
                    kind="inactivity", category="inactive", intent="high", started_at=at, occurred_at=at,
                    detected_at=at, status="recovered" if recovered else "open", segment={},
                    currency=draw.choice(("USD", "EUR", None)), test=draw.random() < 0.05,
                    recovered_at=at + timedelta(hours=draw.randrange(1, 300)) if recovered else None,
                    recovery_seconds=draw.randrange(3600, 10**6) if recovered else None,
                    revenue=Decimal(draw.randrange(0, 100_000)) / 100 if recovered else None,
                    messages_sent=draw.randrange(5), messages_delivered=draw.randrange(3),
                    messages_opened=draw.randrange(3), messages_clicked=draw.randrange(2),
                    messages_machine_opened=draw.randrange(2), message_cost=Decimal(draw.randrange(1000)) / 1000,
                    first_touch_seconds=draw.random() * 86400 if draw.random() < 0.8 else None,
                    re_engaged=draw.random() < 0.3)
                session.add(dropoff)
                session.flush()
                for _ in range(draw.choice((0, 1, 1, 2))):
                    session.add(Enrollment(account_id=account, flow_id=flows[account], contact_id=contact,
                                           dropoff_id=dropoff.id, status="completed", holdout=draw.random() < 0.3,
                                           variants={}))
        with db.transaction() as session:
            ids = list(session.scalars(select(Dropoff.id).order_by(Dropoff.id)))
            retracted, moved, dismissed, enrolled, erased = (ids[0::17], ids[1::13], ids[2::11], ids[3::7],
                                                              ids[4::19])
            session.execute(update(Dropoff).where(Dropoff.id.in_(retracted)).values(
                status="retracted", recovered_at=None, revenue=None, recovery_seconds=None))
            session.execute(update(Dropoff).where(Dropoff.id.in_(moved)).values(
                scenario="sales.moved", messages_sent=Dropoff.messages_sent + 1, re_engaged=True, currency="GBP"))
            session.execute(update(Dropoff).where(Dropoff.id.in_(dismissed)).values(status="dismissed"))
            session.execute(update(Dropoff).where(Dropoff.id.in_(ids[6::8])).values(
                messages_sent=Dropoff.messages_sent + 2, message_cost=Dropoff.message_cost + Decimal("0.25"),
                messages_opened=Dropoff.messages_opened + 1, re_engaged=True))
            session.execute(update(Enrollment).where(Enrollment.dropoff_id.in_(enrolled)).values(holdout=False))
            session.execute(delete(Enrollment).where(Enrollment.dropoff_id.in_(ids[5::9])))
            session.execute(delete(Dropoff).where(Dropoff.id.in_(erased)))
    return acme, globex


def both(account_id: int, filters: dict) -> tuple[list, list]:
    """The answer from the rollups and from the scan of every dropoff."""
    rolled = metrics.metrics(account_id, filters)
    metrics.ROLLUPS = False
    try:
        return rolled, metrics.metrics(account_id, filters)
    finally:
        metrics.ROLLUPS = True


PERIODS = [{}, {"from": START + timedelta(days=2)}, {"to": START + timedelta(days=6, hours=7)},
           {"from": datetime(2026, 3, 3, tzinfo=UTC), "to": datetime(2026, 3, 8, tzinfo=UTC)},
           {"from": START + timedelta(days=1, minutes=17), "to": START + timedelta(days=8, hours=3)},
           {"from": START + timedelta(hours=3), "to": START + timedelta(hours=20)},
           {"from": START + timedelta(days=30)}]
FILTERS = [{}, {"scenario": "sales.a"}, {"stage": "s2", "rule": "r1"}, {"scenario": "sales.moved"}]


@pytest.mark.parametrize("group_by", [None, "scenario", "stage", "rule", "day"])
def test_rollups_answer_what_a_scan_of_every_dropoff_answers(app, generated, group_by):
    with app.app_context():
        for tenant in generated:
            for period in PERIODS:
                for narrowed in FILTERS:
                    filters = {**period, **narrowed, **({"group_by": group_by} if group_by else {})}
                    rolled, scanned = both(tenant.id, filters)
                    assert rolled == scanned, filters
        [total] = metrics.metrics(generated[0].id, {})
        assert total["dropoffs"] > 100 and total["recovered"] and total["enrolled"]


def test_the_dashboards_revenue_per_currency_from_the_rollups_is_the_scans(app, generated):
    with app.app_context():
        for tenant in generated:
            for period in PERIODS:
                rolled = dashboard.revenue_by_currency(tenant.id, period)
                metrics.ROLLUPS = False
                try:
                    assert rolled == dashboard.revenue_by_currency(tenant.id, period), period
                finally:
                    metrics.ROLLUPS = True
        assert len(dashboard.revenue_by_currency(generated[0].id, {})) == 4


def test_the_rollups_are_the_sums_of_the_counted_dropoffs_after_every_change(app, generated):
    with app.app_context():
        session = db.session()
        stored = {(row.account_id, row.day.isoformat(), row.scenario, row.stage, row.rule_key, row.currency):
                  (row.dropoffs, row.enrolled, row.recovered, row.revenue) for row in session.scalars(
                      select(DropoffRollup)) if row.dropoffs or row.enrolled or row.recovered or row.revenue}
        counted: dict[tuple, list] = {}
        for d in session.scalars(select(Dropoff).where(Dropoff.test.is_(False), Dropoff.status != "retracted")):
            held = session.scalar(select(Enrollment.id).where(Enrollment.dropoff_id == d.id,
                                                              Enrollment.holdout.is_(False)).limit(1))
            figures = counted.setdefault((d.account_id, d.detected_at.date().isoformat(), d.scenario, d.stage,
                                          d.rule_key, d.currency or ""), [0, 0, 0, 0])
            figures[0] += 1
            figures[1] += held is not None
            figures[2] += d.recovered_at is not None
            figures[3] += int((d.revenue or 0) * 10_000)
        assert stored == {key: tuple(figures) for key, figures in counted.items()}


def test_a_period_splits_into_whole_days_and_partial_ones():
    days, edges = rollups.split(datetime(2026, 3, 1, 5, tzinfo=UTC), datetime(2026, 3, 4, 2, tzinfo=UTC))
    assert days == (datetime(2026, 3, 2).date(), datetime(2026, 3, 4).date())
    assert edges == [(datetime(2026, 3, 1, 5, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)),
                     (datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 4, 2, tzinfo=UTC))]
    assert rollups.split(None, None) == ((None, None), [])
    inside = (datetime(2026, 3, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, 9, tzinfo=UTC))
    assert rollups.split(*inside) == (None, [inside])


def test_an_account_deleted_takes_its_rollups_and_leaves_the_others(app, generated):
    acme, globex = generated
    with app.app_context():
        before = metrics.metrics(globex.id, {"group_by": "day"})
        with db.transaction() as session:
            session.execute(delete(Account).where(Account.id == acme.id))
        session = db.session()
        assert session.scalar(select(DropoffRollup.account_id).where(DropoffRollup.account_id == acme.id)) is None
        assert metrics.metrics(globex.id, {"group_by": "day"}) == before
