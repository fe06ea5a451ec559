"""Metrics by a message's dimension, the A/B tests and the dashboard read from the message rollups answer exactly
what a scan of every message does, after the history changed every way the product changes it."""

import importlib
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from reengage.models import Contact, Dropoff, DropoffTouch, Enrollment, Flow, Message, MessageRollup
from reengage.platform import db
from reengage.results import dashboard, experiments, metrics

START = datetime(2026, 3, 1, 5, 30, tzinfo=UTC)
STEPS = (("1.mail", 1, "email"), ("1.text", 1, "sms"), ("2.mail", 2, "email"), ("3.hook", 3, "webhook"))


@pytest.fixture
def history(app, acme, globex):
    """Two hundred dropoffs over ten days in two accounts, each enrolled (some twice, some held out) in one of two
    flows with messages on three channels and variants; then sent, opened, clicked, machine-opened, recovered
    and credited, retracted, moved, marked as tests and deleted, as the product's writes do."""
    draw = random.Random(2323)
    with app.app_context():
        with db.transaction() as session:
            flows = {account: [session.scalar(insert(Flow).returning(Flow.id), {
                "account_id": account, "key": key, "name": key.title(), "description": "", "phases": [],
                "goal_events": [], "holdout_percent": 10, "settings": {}, "enabled": True})
                for key in ("sales", "trial")] for account in (acme.id, globex.id)}
            for n in range(200):
                account = acme.id if n % 4 else globex.id
                contact = session.scalar(insert(Contact).returning(Contact.id), {
                    "account_id": account, "external_id": f"c{n}", "properties": {}, "consent": {}})
                at = START + timedelta(minutes=draw.randrange(10 * 24 * 60), microseconds=draw.randrange(10**6))
                dropoff = session.scalar(insert(Dropoff).returning(Dropoff.id), {
                    "account_id": account, "rule_key": draw.choice(("r1", "r2")), "contact_id": contact,
                    "scenario": draw.choice(("sales.a", "sales.b")), "stage": draw.choice(("s1", "s2")),
                    "kind": "inactivity", "category": "inactive", "intent": "high", "started_at": at,
                    "occurred_at": at, "detected_at": at, "status": "enrolled", "segment": {},
                    "currency": draw.choice(("USD", "EUR", None)), "test": draw.random() < 0.05})
                for _ in range(draw.choice((1, 1, 1, 2))):
                    held = draw.random() < 0.15
                    enrollment = session.scalar(insert(Enrollment).returning(Enrollment.id), {
                        "account_id": account, "flow_id": draw.choice(flows[account]), "contact_id": contact,
                        "dropoff_id": dropoff, "status": "completed", "holdout": held, "variants": {}})
                    flow = session.scalar(select(Enrollment.flow_id).where(Enrollment.id == enrollment))
                    for step, phase, channel in () if held else STEPS:
                        sent = at + timedelta(hours=draw.randrange(1, 200), microseconds=draw.randrange(10**6))
                        went = draw.random() < 0.8
                        session.execute(insert(Message), {
                            "account_id": account, "enrollment_id": enrollment, "flow_id": flow, "contact_id": contact,
                            "step": step, "phase": phase, "channel": channel,
                            "variant": draw.choice(("A", "B", "C")) if step != "1.text" else None,
                            "status": "sent" if went else "scheduled", "planned_at": sent, "due_at": sent,
                            "sent_at": sent if went else None, "delivered_at": sent if went and draw.random() < 0.7
                            else None, "cost": Decimal(draw.randrange(0, 5000)) / 10**6 if went else None,
                            "content": {}})
        with db.transaction() as session:
            _replay(session, draw)
        with db.transaction() as session:
            _delete(session)
    return acme, globex


def _replay(session, draw: random.Random) -> None:
    """What happens after: sends, engagement, recoveries credited, retractions, moves, tests, deletions."""
    unsent = list(session.scalars(select(Message.id).where(Message.sent_at.is_(None))))
    for message_id in unsent[::2]:
        session.execute(update(Message).where(Message.id == message_id).values(
            sent_at=Message.due_at, status="sent", cost=Decimal("0.0025")))
    for message in session.scalars(select(Message).where(Message.sent_at.is_not(None))).all():
        roll = draw.random()
        if roll < 0.3:
            message.opened_at = message.sent_at + timedelta(minutes=5)
        if roll < 0.12:
            message.clicked_at = message.sent_at + timedelta(minutes=9)
        if 0.5 < roll < 0.6:
            message.machine_opened_at = message.sent_at + timedelta(seconds=1)
    session.flush()
    # Writes the product does not make, which the rollups follow all the same: a sent message moved to another
    # variant, others taken back (no longer sent), opens and clicks taken back.
    went = list(session.scalars(select(Message.id).where(Message.sent_at.is_not(None)).order_by(Message.id)))
    opened = list(session.scalars(select(Message.id).where(Message.opened_at.is_not(None)).order_by(Message.id)))
    session.execute(update(Message).where(Message.id.in_(opened[2::7])).values(opened_at=None, clicked_at=None))
    session.execute(update(Message).where(Message.id.in_(went[0::31])).values(variant="C", delivered_at=None))
    session.execute(update(Message).where(Message.id.in_(went[1::37])).values(
        sent_at=None, status="failed", opened_at=None, clicked_at=None))
    for dropoff in session.scalars(select(Dropoff).order_by(Dropoff.id)).all():
        if draw.random() < 0.45:
            sent = session.execute(select(Message.id, Message.sent_at).join(
                Enrollment, Enrollment.id == Message.enrollment_id).where(
                Enrollment.dropoff_id == dropoff.id, Message.sent_at.is_not(None))
                .order_by(Message.sent_at.desc())).all()
            at = (sent[-1].sent_at if sent else dropoff.detected_at) + timedelta(days=draw.choice((1, 6, 7, 9)))
            dropoff.status, dropoff.recovered_at = "recovered", at
            dropoff.recovery_seconds = int((at - dropoff.detected_at).total_seconds())
            dropoff.revenue = Decimal(draw.randrange(0, 100_000)) / 100 if draw.random() < 0.8 else None
            earlier = [row for row in sent if row.sent_at <= at]
            dropoff.credited_message_id = earlier[0].id if earlier and draw.random() < 0.9 else None
    session.flush()
    ids = list(session.scalars(select(Dropoff.id).order_by(Dropoff.id)))
    session.execute(update(Dropoff).where(Dropoff.id.in_(ids[0::13])).values(status="retracted", recovered_at=None))
    for moved in session.scalars(select(Dropoff).where(Dropoff.id.in_(ids[1::11]))).all():
        moved.scenario, moved.currency, moved.detected_at = "sales.moved", "GBP", moved.detected_at + timedelta(days=1)
    session.flush()
    session.execute(update(Dropoff).where(Dropoff.id.in_(ids[2::17])).values(test=True))
    session.execute(update(Dropoff).where(Dropoff.id.in_(ids[3::19])).values(revenue=Decimal("12.3456")))


def _delete(session) -> None:
    """A credited message, some dropoffs' enrollments (and their messages), some dropoffs deleted."""
    ids = list(session.scalars(select(Dropoff.id).order_by(Dropoff.id)))
    credited = session.scalar(select(Dropoff.credited_message_id).where(Dropoff.credited_message_id.is_not(None),
                                                                        Dropoff.test.is_(False)).limit(1))
    session.execute(delete(Message).where(Message.id == credited))
    session.execute(delete(Enrollment).where(Enrollment.dropoff_id.in_(ids[4::23])))
    session.execute(delete(Dropoff).where(Dropoff.id.in_(ids[5::29])))


def both(call, *args):
    """The answer from the rollups and from the scan of every message."""
    rolled = call(*args)
    metrics.ROLLUPS = False
    try:
        return rolled, call(*args)
    finally:
        metrics.ROLLUPS = True


PERIODS = [{}, {"from": START + timedelta(days=2)}, {"to": START + timedelta(days=6, hours=7)},
           {"from": datetime(2026, 3, 3, tzinfo=UTC), "to": datetime(2026, 3, 8, tzinfo=UTC)},
           {"from": START + timedelta(days=1, minutes=17), "to": START + timedelta(days=8, hours=3)},
           {"from": START + timedelta(hours=3), "to": START + timedelta(hours=20)}]
FILTERS = [{}, {"phase": 1}, {"channel": "email", "variant": "B"}, {"flow": "trial", "scenario": "sales.a"},
           {"stage": "s2", "variant": "A"}]


@pytest.mark.parametrize("group_by", ["flow", "phase", "channel", "variant", None, "stage", "day"])
def test_message_rollups_answer_what_a_scan_of_every_message_answers(app, history, group_by):
    with app.app_context():
        for tenant in history:
            for period in PERIODS:
                for narrowed in FILTERS:
                    if group_by not in (None, "stage", "day") or set(narrowed) & set(metrics.MESSAGE_DIMENSIONS):
                        filters = {**period, **narrowed, **({"group_by": group_by} if group_by else {})}
                        rolled, scanned = both(metrics.metrics, tenant.id, filters)
                        assert rolled == scanned, filters
        rows = metrics.metrics(history[0].id, {"group_by": "channel"})
        assert sum(row["messages_sent"] for row in rows) > 300 and sum(row["recovered"] for row in rows) > 20


def test_the_ab_tests_and_the_dashboard_from_the_rollups_are_the_scans(app, history):
    with app.app_context():
        for tenant in history:
            for period in PERIODS:
                for window in (timedelta(days=7), timedelta(days=6, hours=23)):
                    rolled, scanned = both(experiments.ab_tests, tenant.id, period, window)
                    assert rolled == scanned, (period, window)
            rolled, scanned = both(dashboard.overview, tenant.id, timedelta(days=7), START + timedelta(hours=9),
                                   START + timedelta(days=8, hours=2), None, ZoneInfo("America/Chicago"))
            assert rolled == scanned
        [test, *_] = experiments.ab_tests(history[0].id, {}, timedelta(days=7))
        assert test["variants"][0]["sent"] and any(variant["recovered"] for variant in test["variants"])


def test_the_rollups_hold_only_counted_sent_messages_and_credits(app, history):
    with app.app_context():
        session = db.session()
        counted = [Dropoff.test.is_(False), Dropoff.status != "retracted"]
        sent = session.scalar(select(func.count()).select_from(Message).join(
            Enrollment, Enrollment.id == Message.enrollment_id).join(Dropoff, Dropoff.id == Enrollment.dropoff_id)
            .where(Message.sent_at.is_not(None), *counted))
        credited = session.scalar(select(func.count()).select_from(Dropoff).where(
            Dropoff.credited_message_id.is_not(None), *counted))
        rolled = session.execute(select(func.sum(MessageRollup.messages_sent), func.sum(MessageRollup.recovered))).one()
        assert tuple(rolled) == (sent, credited)


def test_a_flow_key_held_by_a_deleted_flow_and_a_live_one_is_one_group(app, history):
    """A deleted flow's key may be taken by a new flow: grouped or filtered by flow, both flows' dropoffs are one
    group, its median taken over all of them."""
    acme, _ = history
    with app.app_context():
        with db.transaction() as session:
            session.execute(update(Flow).where(Flow.account_id == acme.id, Flow.key == "trial").values(
                key="sales", deleted_at=START))
        for filters in ({"group_by": "flow"}, {"flow": "sales"}, {"flow": "sales", "stage": "s1"}):
            rolled, scanned = both(metrics.metrics, acme.id, filters)
            assert rolled == scanned, filters
        [group] = metrics.metrics(acme.id, {"group_by": "flow"})
        assert group["group"] == "sales" and group["median_time_to_first_touch_seconds"] is not None


def test_the_reach_kept_as_messages_go_is_the_reach_rebuilt_from_them(app, history):
    """Sends join a dropoff's reach in place; built again from every sent message, it holds the same rows, of
    every kind (the rebuild with SQLite's seconds read exactly, as 0031 makes its triggers: the history's times
    have every fraction, some of .9995 s and more)."""
    message_rollups = importlib.import_module("migrations.versions.0023_message_rollups")
    kinds = importlib.import_module("migrations.versions.0029_reach_across_dimensions").KINDS
    exact = importlib.import_module("migrations.versions.0031_exact_seconds_in_sqlite_reach").exact
    with app.app_context():
        session = db.session()
        kept = session.execute(select(DropoffTouch.__table__).order_by(*DropoffTouch.__table__.primary_key)).all()
        session.execute(delete(DropoffTouch))
        session.execute(text(exact(message_rollups._reach("1 = 1", session.get_bind().dialect.name, kinds))))
        rebuilt = session.execute(select(DropoffTouch.__table__).order_by(*DropoffTouch.__table__.primary_key)).all()
        session.rollback()
    assert len(kept) > 500 and kept == rebuilt
    assert {row.dimension for row in kept} == set(kinds)


@pytest.mark.parametrize("filters", [{"group_by": "phase"}, {"group_by": "variant", "phase": 1}, {"phase": 2}, {}])
def test_medians_left_out_change_no_other_figure(app, history, filters):
    """The dashboard's charts show no median: leaving them out gives the same rows with those None."""
    with app.app_context():
        for rolled in (True, False):
            metrics.ROLLUPS = rolled
            try:
                whole = metrics.metrics(history[0].id, filters)
                assert metrics.metrics(history[0].id, filters, medians=()) == [
                    {**row, "median_time_to_first_touch_seconds": None, "median_time_to_recovery_seconds": None}
                    for row in whole]
            finally:
                metrics.ROLLUPS = True
