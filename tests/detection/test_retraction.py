"""Late goals, late starts and grace, with time travel: a goal reached in time retracts the dropoff whenever it
arrives, and the order events arrive in never changes the verdict."""

import itertools
from datetime import datetime, timedelta

from tests.results.test_dashboard import sign_in
from tests.support import event
from tests.support.journeys import DANA, T, abandon, contact_id, setup_sales, tick

SECOND = timedelta(seconds=1)


def post(client, tenant, key, type_, at, contact=DANA, **fields):
    body = event(key, type=type_, occurred_at=at.isoformat(), contact=contact, **fields)
    response = client.post("/v1/events", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.json


def dropoffs_of(client, tenant, contact):
    return client.get(f"/v1/dropoffs?contact_id={contact_id(client, tenant, contact)}", headers=tenant.headers).json


def add_rule(client, tenant, key, **params):
    body = {"key": key, "scenario": "sales.application_abandoned", "kind": "inactivity",
            "params": {"start_events": ["demo.start"], "goal_events": ["demo.done"], **params}}
    response = client.post("/v1/rules", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.json


def test_a_late_goal_retracts_an_enrolled_dropoff_and_it_counts_nowhere(app, client, acme):
    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    first = min(enrollment["messages"], key=lambda m: m["due_at"])
    tick(app, datetime.fromisoformat(first["due_at"]))
    assert client.get(f"/v1/messages/{first['id']}", headers=acme.headers).json["sent_at"] is not None
    # Counted until then: in the A/B test of the step it went from, and on the dashboard.
    assert [t["step"] for t in client.get("/v1/metrics/ab-tests", headers=acme.headers).json] == [first["step"]]
    assert sign_in(client, acme.key).status_code == 302
    board = client.get("/dashboard?from=2026-10-01&to=2026-11-30").get_data(as_text=True)
    assert 'id="tile-dropoffs">1<' in board and f'href="/console/contacts/{enrollment["contact_id"]}"' in board
    # The application was completed two hours in; the event reaches us days later.
    post(client, acme, "g1", "application_completed", T + timedelta(hours=2), value=249, currency="USD")
    [dropoff] = dropoffs_of(client, acme, DANA)
    assert dropoff["status"] == "retracted" and dropoff["retracted_at"].startswith("2026-10-20T15:00:00")
    assert dropoff["recovered_at"] is None and dropoff["revenue"] is None
    ended = client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json
    assert ended["status"] == "exited" and ended["exit_reason"] == "retracted"
    assert {m["status"] for m in ended["messages"] if m["id"] != first["id"]} == {"skipped"}
    [total] = client.get("/v1/metrics", headers=acme.headers).json
    assert (total["dropoffs"], total["enrolled"], total["recovered"], total["revenue"]) == (0, 0, 0, 0.0)
    assert client.get("/v1/metrics?group_by=channel", headers=acme.headers).json == []
    assert client.get("/v1/metrics/holdout", headers=acme.headers).json == []
    assert client.get("/v1/triggers/contact.recovered", headers=acme.headers).json == []
    assert client.get("/v1/metrics/ab-tests", headers=acme.headers).json == []
    board = client.get("/dashboard?from=2026-10-01&to=2026-11-30").get_data(as_text=True)
    assert 'id="tile-dropoffs">0<' in board and 'id="tile-recovered">0<' in board
    assert f'href="/console/contacts/{enrollment["contact_id"]}"' not in board and "No dropoffs yet." in board
    refused = client.post(f"/v1/dropoffs/{dropoff['id']}/dismiss", headers=acme.headers)
    assert refused.status_code == 409 and "retracted" in refused.json["error"]["message"]


def test_a_goal_processed_before_its_start_recovers_the_dropoff_and_sends_nothing(app, client, acme):
    setup_sales(client, acme)
    post(client, acme, "g1", "application_completed", T + timedelta(hours=30), value=99)
    post(client, acme, "s1", "application_started", T)
    tick(app, T + timedelta(days=3))
    [dropoff] = dropoffs_of(client, acme, DANA)
    assert dropoff["status"] == "recovered" and dropoff["recovery_seconds"] == 6 * 3600 and dropoff["revenue"] == 99
    assert client.get(f"/v1/messages?contact_id={dropoff['contact_id']}", headers=acme.headers).json == []
    assert [r["dropoff_id"] for r in client.get("/v1/triggers/contact.recovered", headers=acme.headers).json] == [
        dropoff["id"]]


def test_start_goal_and_second_start_give_one_verdict_in_every_arrival_order(app, client, acme):
    add_rule(client, acme, "demo_quick", wait="PT30S")
    journey = [("s1", "demo.start", 0), ("g1", "demo.done", 15), ("s2", "demo.start", 20)]
    verdicts = set()
    for n, order in enumerate(itertools.permutations(journey)):
        base, contact = T + n * timedelta(hours=1), {"external_id": f"c{n}"}
        for key, type_, seconds in order:
            post(client, acme, f"{n}-{key}", type_, base + seconds * SECOND, contact=contact)
        tick(app, base + timedelta(minutes=5))
        verdicts.add(tuple((d["status"], (datetime.fromisoformat(d["started_at"]) - base) // SECOND,
                            (datetime.fromisoformat(d["occurred_at"]) - base) // SECOND)
                           for d in dropoffs_of(client, acme, contact) if d["status"] != "retracted"))
    # The goal ends the first attempt; the second start, 20 s in, is not followed by a goal by 50 s.
    assert verdicts == {(("open", 20, 50),)}


def test_settle_waits_for_goals_that_arrive_late_before_raising(app, client, acme):
    add_rule(client, acme, "demo_settled", wait="PT1H", settle="PT10M")
    late, silent = {"external_id": "late"}, {"external_id": "silent"}
    post(client, acme, "s1", "demo.start", T, contact=late)
    post(client, acme, "s2", "demo.start", T, contact=silent)
    tick(app, T + timedelta(minutes=65))
    assert dropoffs_of(client, acme, late) == [] and dropoffs_of(client, acme, silent) == []
    post(client, acme, "g1", "demo.done", T + timedelta(minutes=50), contact=late)
    tick(app, T + timedelta(minutes=70))
    assert dropoffs_of(client, acme, late) == []
    [dropoff] = dropoffs_of(client, acme, silent)
    assert dropoff["occurred_at"].startswith("2026-10-20T14:00:00") and dropoff["status"] == "open"
    assert dropoff["detected_at"].startswith("2026-10-20T14:10:00")


def test_a_batch_reads_a_start_within_the_grace_as_events_arriving_in_order_do(app, client, acme, globex):
    # The second start comes after the first watch's deadline (14:00) but before the clock raises it (14:10): the
    # watch is moved on, in one batch as one event at a time.
    starts = [("s1", T), ("s2", T + timedelta(minutes=65))]
    for tenant in (acme, globex):
        add_rule(client, tenant, "demo_settled", wait="PT1H", settle="PT10M")
    batch = [event(key, type="demo.start", occurred_at=at.isoformat(), contact=DANA) for key, at in starts]
    response = client.post("/v1/events", json={"events": batch}, headers=acme.headers)
    assert response.status_code == 200, response.json
    for key, at in starts:
        tick(app, at)
        post(client, globex, key, "demo.start", at)
    tick(app, T + timedelta(hours=3))
    [batched], [in_order] = dropoffs_of(client, acme, DANA), dropoffs_of(client, globex, DANA)
    assert batched["occurred_at"] == in_order["occurred_at"]
    assert batched["occurred_at"].startswith("2026-10-20T15:05:00")


def test_a_start_within_the_grace_moves_the_watch_on_however_late_it_arrives(app, client, acme):
    # The clock raises the first watch (deadline 14:00) at 14:10. A start at 14:05, or at 14:10 itself, arriving in
    # time moves the watch on; arriving after the clock raised it, the contact is judged again: the dropoff at 14:00
    # is retracted, and the watch moved on becomes the contact's dropoff an hour after that start.
    add_rule(client, acme, "demo_settled", wait="PT1H", settle="PT10M")
    for n, minutes in enumerate((65, 70)):
        base = T + n * timedelta(hours=6)
        deadline = (base + timedelta(hours=1)).strftime("%H:%M")
        timely, late = {"external_id": f"timely-{minutes}"}, {"external_id": f"late-{minutes}"}
        for contact in (timely, late):
            post(client, acme, f"{contact['external_id']}-s1", "demo.start", base, contact=contact)
        start = base + timedelta(minutes=minutes)
        tick(app, start - SECOND)
        post(client, acme, f"timely-{minutes}-s2", "demo.start", start, contact=timely)
        tick(app, base + timedelta(minutes=75))
        assert [d["occurred_at"][11:16] for d in dropoffs_of(client, acme, late)] == [deadline]
        post(client, acme, f"late-{minutes}-s2", "demo.start", start, contact=late)
        tick(app, base + timedelta(hours=4))
        expected = (start + timedelta(hours=1)).strftime("%H:%M")
        assert [(d["status"], d["occurred_at"][11:16]) for d in dropoffs_of(client, acme, timely)] == [
            ("open", expected)]
        assert sorted((d["status"], d["occurred_at"][11:16]) for d in dropoffs_of(client, acme, late)) == [
            ("open", expected), ("retracted", deadline)]


def test_a_settle_over_a_year_or_unreadable_is_refused_naming_the_field(client, acme):
    for settle in ("P400D", "soon", "-PT1H"):
        body = {"key": "demo_bad", "scenario": "sales.application_abandoned", "kind": "inactivity",
                "params": {"start_events": ["a"], "goal_events": ["b"], "wait": "PT1H", "settle": settle}}
        response = client.post("/v1/rules", json=body, headers=acme.headers)
        assert response.status_code == 422 and "settle" in str(response.json["error"]["details"])
