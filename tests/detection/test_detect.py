"""Dropoff detection for inactivity rules, through HTTP and the clock, with time travel."""

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event as sql_event
from sqlalchemy import select

from reengage.detection import batch as preloading
from reengage.detection import detect
from reengage.jobs.events import FIRST_CHUNK
from reengage.models import Watch
from reengage.platform import db
from tests.support import event
from tests.support.detection import DANA, T, at, dropoffs, send, tick


def test_dropoff_is_raised_once_at_the_deadline_and_not_a_second_before(app, client, acme):
    send(client, acme, "s1", "application_started", value=249, currency="USD",
         properties={"application_id": "app-1"})
    tick(app, timedelta(hours=24) - timedelta(seconds=1))
    assert dropoffs(client, acme) == []
    tick(app, timedelta(hours=24))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["scenario"] == "sales.application_abandoned" and dropoff["rule"] == "application_abandoned"
    assert dropoff["stage"] == "sales" and dropoff["intent"] == "high" and dropoff["status"] == "open"
    assert dropoff["category"] == "inactive" and dropoff["match_value"] == "app-1"
    assert dropoff["value_at_risk"] == 249.0 and dropoff["currency"] == "USD"
    assert dropoff["occurred_at"].startswith("2026-03-03T09:00:00")
    tick(app, timedelta(hours=48))
    assert len(dropoffs(client, acme)) == 1


def test_goal_inside_the_window_prevents_the_dropoff(app, client, acme):
    send(client, acme, "s1", "application_started")
    send(client, acme, "g1", "application_completed", timedelta(hours=2))
    tick(app, timedelta(days=3))
    assert dropoffs(client, acme) == []


def test_goal_arriving_before_its_start_still_counts(app, client, acme):
    send(client, acme, "g1", "application_completed", timedelta(hours=2))
    send(client, acme, "s1", "application_started")
    tick(app, timedelta(days=3))
    assert dropoffs(client, acme) == []


def test_goal_that_happened_in_time_but_arrived_late_retracts_the_dropoff(app, client, acme):
    send(client, acme, "s1", "application_started")
    tick(app, timedelta(hours=25))
    assert dropoffs(client, acme)[0]["status"] == "open"
    send(client, acme, "g1", "application_completed", timedelta(hours=2), value=249)
    [dropoff] = dropoffs(client, acme)
    assert dropoff["status"] == "retracted" and dropoff["retracted_at"].startswith("2026-03-02T11:00:00")
    assert dropoff["recovered_at"] is None and dropoff["recovery_seconds"] is None and dropoff["revenue"] is None


def test_goal_after_the_dropoff_recovers_it_with_time_and_revenue(app, client, acme):
    send(client, acme, "s1", "application_started")
    tick(app, timedelta(hours=25))
    send(client, acme, "g1", "application_completed", timedelta(hours=30), value=499.5)
    [dropoff] = dropoffs(client, acme, "?status=recovered")
    assert dropoff["recovery_seconds"] == 6 * 3600 and dropoff["revenue"] == 499.5
    assert dropoff["recovered_at"].startswith("2026-03-03T15:00:00")


def test_goal_after_a_deadline_the_clock_has_not_reached_records_both(app, client, acme):
    send(client, acme, "s1", "application_started")
    send(client, acme, "g1", "application_completed", timedelta(hours=30))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["status"] == "recovered" and dropoff["recovery_seconds"] == 6 * 3600
    tick(app, timedelta(days=3))
    assert len(dropoffs(client, acme)) == 1


def test_replayed_events_change_nothing(app, client, acme):
    send(client, acme, "s1", "application_started")
    send(client, acme, "s1", "application_started", timedelta(hours=5))
    tick(app, timedelta(hours=24))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["occurred_at"].startswith("2026-03-03T09:00:00")
    send(client, acme, "g1", "application_completed", timedelta(hours=30))
    send(client, acme, "g1", "application_completed", timedelta(hours=40))
    assert dropoffs(client, acme)[0]["recovery_seconds"] == 6 * 3600


def test_match_keys_keep_parallel_attempts_apart(app, client, acme):
    send(client, acme, "s1", "application_started", properties={"application_id": "app-1"})
    send(client, acme, "s2", "application_started", properties={"application_id": "app-2"})
    send(client, acme, "g1", "application_completed", timedelta(hours=1), properties={"application_id": "app-1"})
    tick(app, timedelta(hours=24))
    assert [d["match_value"] for d in dropoffs(client, acme)] == ["app-2"]


def test_goal_without_the_match_property_closes_every_attempt(app, client, acme):
    send(client, acme, "s1", "application_started", properties={"application_id": "app-1"})
    send(client, acme, "s2", "application_started", properties={"application_id": "app-2"})
    send(client, acme, "g1", "application_completed", timedelta(hours=1))
    tick(app, timedelta(hours=24))
    assert dropoffs(client, acme) == []


def test_wait_can_count_from_a_time_in_the_start_event(app, client, acme):
    starts_at = at(timedelta(days=3))
    send(client, acme, "b1", "call_booked", properties={"call_id": "c-9", "starts_at": starts_at})
    tick(app, timedelta(days=3, minutes=59))
    assert dropoffs(client, acme) == []
    tick(app, timedelta(days=3, hours=1))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["scenario"] == "sales.call_no_show" and dropoff["match_value"] == "c-9"


def test_start_without_its_wait_from_time_opens_no_watch(app, client, acme, caplog):
    send(client, acme, "b1", "call_booked", properties={"call_id": "c-9"})
    tick(app, timedelta(days=30))
    assert dropoffs(client, acme) == [] and "no watch opened" in caplog.text


def test_one_active_dropoff_per_rule_contact_and_match(app, client, acme):
    send(client, acme, "s1", "application_started")
    tick(app, timedelta(hours=24))
    send(client, acme, "s2", "application_started", timedelta(hours=30))
    tick(app, timedelta(hours=60))
    assert len(dropoffs(client, acme)) == 1


def test_engaged_contact_has_higher_intent(app, client, acme):
    for n in range(5):
        send(client, acme, f"v{n}", "page_viewed", timedelta(hours=-n - 1))
    send(client, acme, "s1", "trial_limit_reached")
    tick(app, timedelta(days=7))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["scenario"] == "upsell.not_upgrading"
    assert dropoff["intent"] == "high" and dropoff["segment"]["engagement"] == "high"


def test_another_accounts_events_never_touch_this_accounts_watches(app, client, acme, globex):
    send(client, acme, "s1", "application_started")
    send(client, globex, "g1", "application_completed", timedelta(hours=1))
    tick(app, timedelta(hours=24))
    assert len(dropoffs(client, acme)) == 1 and dropoffs(client, globex) == []


def test_disabled_rule_opens_no_watches(app, client, acme):
    client.patch("/v1/rules/application_abandoned", json={"enabled": False}, headers=acme.headers)
    send(client, acme, "s1", "application_started")
    tick(app, timedelta(days=2))
    assert dropoffs(client, acme) == []


def test_stored_but_unprocessed_goal_keeps_the_clock_from_raising(database_url, app, client, acme):
    from app import create_app
    from tests.support import settings

    send(client, acme, "s1", "application_started")
    queue_down = create_app(settings(database_url, REDIS_URL="redis://127.0.0.1:1/0", JOBS_INLINE=False))
    body = event("g1", type="application_completed", occurred_at=at(timedelta(hours=3)), contact=DANA)
    assert queue_down.test_client().post("/v1/events", json=body, headers=acme.headers).status_code == 200
    tick(app, timedelta(hours=24))
    assert dropoffs(client, acme) == []


def test_two_clocks_at_once_raise_each_dropoff_once(app, client, acme, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent clocks are claimed with row locks on PostgreSQL")
    for n in range(40):
        send(client, acme, f"s{n}", "application_started", properties={"application_id": f"app-{n}"})
    raised: list[int] = []

    def run_clock() -> None:
        with app.app_context():
            raised.append(detect.expire_due(T + timedelta(days=2), limit=1000))

    clocks = [threading.Thread(target=run_clock) for _ in range(2)]
    for thread in clocks:
        thread.start()
    for thread in clocks:
        thread.join()
    assert sum(raised) == 40
    assert len(dropoffs(client, acme, "?limit=100")) == 40


def test_a_start_after_a_goal_closed_the_watch_is_not_judged_again(app, client, acme, monkeypatch):
    judged = []
    monkeypatch.setattr(detect.rejudge, "rejudge", lambda rule, contact_id, now: judged.append(rule.key))
    props = {"application_id": "app-1"}
    send(client, acme, "s1", "application_started", properties=props)
    send(client, acme, "g1", "application_completed", timedelta(hours=1), properties=props)
    # The goal acted at its own time, not at the watch's deadline: a later start is news, not a late event.
    send(client, acme, "s2", "application_started", timedelta(hours=2), properties=props)
    assert judged == []
    tick(app, timedelta(hours=26))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["started_at"].startswith("2026-03-02T11:00:00") and dropoff["status"] == "open"


def test_a_batch_of_one_instant_is_taken_in_order_without_judging_a_contact_again(app, client, acme, monkeypatch):
    judged = []
    monkeypatch.setattr(detect.rejudge, "rejudge", lambda rule, contact_id, now: judged.append(rule.key))
    # Stamped to the second, as many senders' times are: one instant, counted in the order of the events' ids.
    journey = [("e1", "application_started", "app-1"), ("e2", "application_completed", "app-1"),
               ("e3", "application_started", "app-1"), ("e4", "application_started", "app-2")]
    batch = [event(key, type=type_, occurred_at=at(timedelta(0)), contact=DANA, properties={"application_id": match})
             for key, type_, match in journey]
    response = client.post("/v1/events", json={"events": batch}, headers=acme.headers)
    assert response.status_code == 200, response.json
    # The goal closed app-1's watch at that instant; the start after it in the batch is not late for that, and the
    # goal of its instant reaches it too.
    assert judged == []
    with app.app_context():
        opened = db.session().scalars(select(Watch.match_value).where(Watch.status == "open")).all()
    assert opened == ["app-2"]


def test_a_start_after_its_watch_was_due_opens_a_watch_of_its_own_in_one_batch(app, client, acme, globex):
    # Before the clock came to the first watch, as a batch of past events or a clock a tick behind finds it.
    batch = [event("s1", type="application_started", occurred_at=at(timedelta(0)), contact=DANA,
                   properties={"application_id": "app-1"}),
             event("s2", type="application_started", occurred_at=at(timedelta(hours=30)), contact=DANA,
                   properties={"application_id": "app-1"})]
    response = client.post("/v1/events", json={"events": batch}, headers=acme.headers)
    assert response.status_code == 200, response.json
    for body in batch:  # the same events one at a time, the clock ticking as they happen
        tick(app, datetime.fromisoformat(body["occurred_at"]) - T)
        assert client.post("/v1/events", json=body, headers=globex.headers).status_code == 200
    tick(app, timedelta(days=3))

    def verdicts(tenant):
        return sorted((d["status"], d["started_at"], d["occurred_at"]) for d in dropoffs(client, tenant))
    assert verdicts(acme) == verdicts(globex)
    assert [d["occurred_at"][:19] for d in dropoffs(client, acme)] == ["2026-03-03T09:00:00"]


def test_a_batch_of_one_contacts_journey_gets_the_verdicts_of_events_one_at_a_time(app, client, acme, globex):
    journey = [("s1", "application_started", 0, "app-1"), ("g1", "application_completed", 1, "app-1"),
               ("s2", "application_started", 2, "app-2"), ("s3", "application_started", 3, "app-1"),
               ("g2", "application_completed", 30, "app-2")]
    for key, type_, hours, match in journey:
        send(client, acme, key, type_, timedelta(hours=hours), properties={"application_id": match})
    batch = [event(key, type=type_, occurred_at=at(timedelta(hours=hours)), contact=DANA,
                   properties={"application_id": match}) for key, type_, hours, match in reversed(journey)]
    response = client.post("/v1/events", json={"events": batch}, headers=globex.headers)
    assert response.status_code == 200, response.json
    tick(app, timedelta(days=3))

    def verdicts(tenant):
        return sorted((d["match_value"], d["status"], d["started_at"], d["occurred_at"], d["recovered_at"])
                      for d in dropoffs(client, tenant))
    assert verdicts(acme) == verdicts(globex) and len(verdicts(acme)) == 2


def test_a_watch_a_batch_opens_and_its_goal_closes_is_stored_closed_and_raises_nothing(app, client, acme):
    batch = [event("s1", type="application_started", occurred_at=at(timedelta(0)), contact=DANA,
                   properties={"application_id": "app-1"}),
             event("s2", type="application_started", occurred_at=at(timedelta(minutes=5)), contact=DANA,
                   properties={"application_id": "app-2"}),
             event("g1", type="application_completed", occurred_at=at(timedelta(hours=2)), contact=DANA,
                   properties={"application_id": "app-1"})]
    response = client.post("/v1/events", json={"events": batch}, headers=acme.headers)
    assert response.status_code == 200, response.json
    with app.app_context():
        stored = {w.match_value: (w.status, w.closed_at) for w in db.session().scalars(select(Watch))}
    assert stored == {"app-1": ("closed", T + timedelta(hours=2)), "app-2": ("open", None)}
    tick(app, timedelta(days=3))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["match_value"] == "app-2"


def test_the_watches_a_batch_opens_are_written_in_one_statement(app, client, acme):
    """Goals closing some of them in the same batch leave them one shape: one INSERT, not one a watch."""
    with app.app_context():
        engine = db.engine()
    # Seven starts and three of their goals: one chunk of processing.
    starts = [event(f"s{n}", type="application_started", occurred_at=at(timedelta(minutes=n)), contact=DANA,
                    properties={"application_id": f"app-{n}"}) for n in range(7)]
    goals = [event(f"g{n}", type="application_completed", occurred_at=at(timedelta(hours=1, minutes=n)),
                   contact=DANA, properties={"application_id": f"app-{n}"}) for n in range(0, 7, 3)]
    assert len(starts + goals) <= FIRST_CHUNK
    inserts = []

    def count(connection, cursor, statement, *args):  # what reaches the driver: SQLite's rows could go one each
        if statement.startswith("INSERT INTO watches"):
            inserts.append(statement)
    sql_event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.post("/v1/events", json={"events": starts + goals}, headers=acme.headers)
    finally:
        sql_event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.json
    assert len(inserts) == 1
    with app.app_context():
        stored = {w.match_value: w for w in db.session().scalars(select(Watch))}
    assert {match: (w.status, w.closed_at) for match, w in stored.items()} == {
        f"app-{n}": ("closed", T + timedelta(hours=1, minutes=n)) if n % 3 == 0 else ("open", None) for n in range(7)}
    assert all(w.created_at is not None and w.start_event_id and w.due_at == w.deadline for w in stored.values())


def test_a_batch_loads_what_its_events_reach_not_its_contacts_whole_history(app, client, acme, monkeypatch):
    """Forty applications started and still open, and two failed attempts days before: the next events load the
    one watch their goal names and the events from their own moment on, except the kinds a rule looks back over."""
    history = [event(f"s{n}", type="application_started", occurred_at=at(timedelta(minutes=n)), contact=DANA,
                     properties={"application_id": f"app-{n}"}) for n in range(40)]
    history += [event(f"f{n}", type="Viewed Task Failed Page", occurred_at=at(timedelta(days=n - 3)), contact=DANA)
                for n in range(2)]
    assert client.post("/v1/events", json={"events": history}, headers=acme.headers).status_code == 200
    loads = []

    class Watched(preloading.Preload):
        def __init__(self, *args):
            super().__init__(*args)
            loads.append(([watch.match_value for held in self.watches.values() for watch in held.values()],
                          {contact: [key for _, key, _, _ in items] for contact, items in self.events.items()}))
    monkeypatch.setattr(preloading, "Preload", Watched)
    now = [event("g3", type="application_completed", occurred_at=at(timedelta(hours=2)), contact=DANA,
                 properties={"application_id": "app-3"}),
           event("s99", type="application_started", occurred_at=at(timedelta(hours=3)), contact=DANA,
                 properties={"application_id": "app-99"}),
           event("f9", type="Viewed Task Failed Page", occurred_at=at(timedelta(hours=4)), contact=DANA)]
    assert client.post("/v1/events", json={"events": now}, headers=acme.headers).status_code == 200
    [(watched, read)] = loads
    assert [match for match in watched if match.startswith("app-")] == ["app-3"]
    assert [sorted(keys) for keys in read.values()] == [["f0", "f1", "f9", "g3", "s99"]]
    with app.app_context():
        statuses = sorted((w.match_value, w.status) for w in db.session().scalars(select(Watch))
                          if w.match_value.startswith("app-"))
    assert ("app-3", "closed") in statuses and ("app-99", "open") in statuses
    assert sum(status == "open" for _, status in statuses) == 40
