"""Send-time learning with time travel: whole-day steps go at the contact's best allowed hour, the holdout share
at the window's first slot, and the metrics compare the two."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support import event
from tests.support.journeys import DANA, T, abandon, setup_sales

NEW_YORK = ZoneInfo("America/New_York")


def learn(percent):
    return {"settings": {"send_time": {"learn": True, "holdout_percent": percent}}}


def engage(client, tenant, contact, local_hour, count, key):
    """`count` events of `contact` in the days before T, at `local_hour` New York time (one an open)."""
    for n in range(count):
        day = (T - timedelta(days=n + 2)).astimezone(NEW_YORK).replace(hour=local_hour, minute=20)
        body = event(f"{key}-{n}", type="email.opened" if n == 0 else "page_viewed", occurred_at=day.isoformat(),
                     contact=contact)
        assert client.post("/v1/events", json=body, headers=tenant.headers).status_code == 200


def hours(enrollment, field):
    return {m["step"]: datetime.fromisoformat(m[field]).astimezone(NEW_YORK).hour for m in enrollment["messages"]}


def test_whole_day_steps_go_at_the_hour_the_contact_engages_most(app, client, acme):
    setup_sales(client, acme, **learn(0))
    engage(client, acme, DANA, 14, 4, "dana")
    engage(client, acme, DANA, 20, 2, "late")  # outside the send window: never chosen
    enrollment = abandon(app, client, acme, DANA)
    assert enrollment["variants"]["send_time"] == "learned"
    assert enrollment["variants"]["send_hour"] == "14:00 (contact)"
    planned = hours(enrollment, "planned_at")
    # Two hours after the dropoff stays as planned; steps whole days later move to 14:00 on their day.
    assert planned["1.pick-up"] == (T + timedelta(hours=26)).astimezone(NEW_YORK).hour
    assert {step: hour for step, hour in planned.items() if step != "1.pick-up"} == {
        step: 14 for step in planned if step != "1.pick-up"}
    due = {m["step"]: m for m in enrollment["messages"]}
    assert all(datetime.fromisoformat(m["due_at"]).astimezone(NEW_YORK).hour == 14
               for step, m in due.items() if step != "1.pick-up" and m["moved_because"] is None)


def test_without_history_of_their_own_a_contact_gets_the_accounts_best_hour(app, client, acme):
    setup_sales(client, acme, **learn(0))
    engage(client, acme, {"external_id": "other", "email": "o@example.com"}, 11, 5, "other")
    enrollment = abandon(app, client, acme, DANA)
    assert enrollment["variants"]["send_hour"] == "11:00 (account)"
    assert hours(enrollment, "planned_at")["2.how-others-decided"] == 11


def test_the_holdout_share_keeps_the_first_slot_and_the_metrics_compare_both(app, client, acme):
    setup_sales(client, acme, **learn(50))
    groups = {}
    for n in range(12):
        contact = {"external_id": f"c{n}", "email": f"c{n}@example.com", "timezone": "America/New_York"}
        engage(client, acme, contact, 15, 3, f"c{n}")
        enrollment = abandon(app, client, acme, contact, key=f"s{n}", at=T + timedelta(minutes=n))
        group = enrollment["variants"]["send_time"]
        groups[n] = group
        expected = 15 if group == "learned" else 9
        assert hours(enrollment, "planned_at")["2.how-others-decided"] == expected
        if n % 2 == 0:
            done = event(f"done{n}", type="application_completed", contact=contact,
                         occurred_at=(T + timedelta(days=2, minutes=n)).isoformat())
            assert client.post("/v1/events", json=done, headers=acme.headers).status_code == 200
    assert set(groups.values()) == {"learned", "first_slot"}
    [result] = client.get("/v1/metrics/send-time", headers=acme.headers).json
    learned = [n for n, group in groups.items() if group == "learned"]
    assert result["flow"] == "sales" and result["learned"]["enrolled"] == len(learned)
    assert result["first_slot"]["enrolled"] == 12 - len(learned)
    assert result["learned"]["recovered"] == sum(n % 2 == 0 for n in learned)
    assert result["lift"]["confidence"] == 0.95 and "verdict" in result


def test_learning_is_off_unless_a_flow_or_the_account_turns_it_on(app, client, acme):
    setup_sales(client, acme)
    engage(client, acme, DANA, 14, 4, "dana")
    enrollment = abandon(app, client, acme, DANA)
    assert "send_time" not in enrollment["variants"]
    assert hours(enrollment, "planned_at")["2.how-others-decided"] == (T + timedelta(hours=24)).astimezone(
        NEW_YORK).hour
    assert client.get("/v1/metrics/send-time", headers=acme.headers).json == []
    bad = client.patch("/v1/settings", json={"send_time": {"learn": True, "holdout_percent": 80}},
                       headers=acme.headers)
    assert bad.status_code == 422 and "send_time.holdout_percent" in str(bad.json["error"]["details"])
