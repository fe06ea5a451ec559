"""Placement with time travel: phase-1 steps stay inside days 0-2 when the calendar allows, the cap serves the
most urgent message first, and every reason a message moved is kept."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.journeys import DANA, abandon, setup_sales, tick

NEW_YORK = ZoneInfo("America/New_York")


def local(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(NEW_YORK).replace(tzinfo=None)


@pytest.mark.parametrize(("started", "kept_on"), [
    # Thursday 22 October, 19:00 in New York: the text a day later would fall on Friday evening.
    (datetime(2026, 10, 22, 23, 0, tzinfo=UTC), datetime(2026, 10, 23, 17, 59, 59)),
    # Wednesday 2 July 2025, 19:00: a day later is the eve of Independence Day (a Friday), then a weekend.
    (datetime(2025, 7, 2, 23, 0, tzinfo=UTC), datetime(2025, 7, 3, 17, 59, 59)),
])
def test_an_evening_or_holiday_eve_phase_1_step_still_goes_inside_days_0_to_2(app, client, acme, started, kept_on):
    setup_sales(client, acme)
    contact = {**DANA, "external_id": "eve"}
    enrollment = abandon(app, client, acme, contact, at=started - timedelta(hours=24))
    by_step = {m["step"]: m for m in enrollment["messages"]}
    nudge = by_step["1.text-nudge"]
    assert local(nudge["due_at"]) == kept_on
    assert nudge["moved_because"].startswith("after the send window")
    assert nudge["moved_because"].endswith("moved earlier to stay inside phase 1 (0-2 days)")
    phase_end = started.astimezone(NEW_YORK) + timedelta(days=3)
    assert all(datetime.fromisoformat(m["due_at"]) < phase_end for m in enrollment["messages"] if m["phase"] == 1)
    tick(app, datetime.fromisoformat(nudge["due_at"]))
    sent = client.get(f"/v1/messages/{nudge['id']}", headers=acme.headers).json
    assert sent["status"] == "sent" and local(sent["sent_at"]) == kept_on


def test_two_flows_at_once_send_both_phase_1_steps_before_either_phase_2_step(app, client, acme):
    setup_sales(client, acme)
    assert client.patch("/v1/settings", json={"frequency_cap": {"messages": 1, "per": "P3D"}},
                        headers=acme.headers).status_code == 200
    assert client.post("/v1/flows", json={"template": "lead_magnet", "holdout_percent": 0, "enroll_on": []},
                       headers=acme.headers).status_code == 201
    contact = {"external_id": "two", "email": "two@example.com", "timezone": "America/New_York"}
    sales = abandon(app, client, acme, contact)
    lead = client.post("/v1/actions/enroll", json={"external_id": "two", "flow": "lead_magnet"},
                       headers=acme.headers).json
    messages = client.get(f"/v1/messages?contact_id={lead['contact_id']}&channel=email&limit=100",
                          headers=acme.headers).json
    for message in sorted(messages, key=lambda m: m["due_at"]):
        if message["phase"] <= 2:
            tick(app, datetime.fromisoformat(message["due_at"]))
    went = sorted((m for m in client.get(f"/v1/messages?contact_id={lead['contact_id']}&channel=email&limit=100",
                                         headers=acme.headers).json if m["sent_at"]), key=lambda m: m["sent_at"])
    assert [m["phase"] for m in went][:4] == [1, 1, 2, 2]
    assert {m["flow_id"] for m in went[:2]} == {sales["flow_id"], lead["flow_id"]}
    # The lead magnet's phase-1 email could not fit in its phase behind the sales one, and says so.
    late = [m for m in messages if m["phase"] == 1 and m["flow_id"] == lead["flow_id"]]
    assert late and all("frequency cap" in m["moved_because"] for m in late)


def test_a_window_open_until_midnight_sends_in_the_days_last_minute(app, client, acme):
    """With a window ending at 24:00, a step due at 23:59:30 goes then; ending at 23:59, it waited for the next day."""
    setup_sales(client, acme)
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert client.patch("/v1/settings", json={"send_window": {"start": "00:00", "end": "24:00", "days": every_day},
                                              "skip_holidays": False}, headers=acme.headers).status_code == 200
    late = datetime(2026, 10, 22, 3, 59, 30, tzinfo=UTC)  # Wednesday 23:59:30 in New York
    enrollment = abandon(app, client, acme, {**DANA, "external_id": "late"}, at=late - timedelta(hours=24))
    nudge = next(m for m in enrollment["messages"] if m["step"] == "1.text-nudge")  # a day later, the same hour
    assert local(nudge["due_at"]) == datetime(2026, 10, 22, 23, 59, 30) and nudge["moved_because"] is None
    tick(app, datetime.fromisoformat(nudge["due_at"]))
    sent = client.get(f"/v1/messages/{nudge['id']}", headers=acme.headers).json
    assert sent["status"] == "sent" and local(sent["sent_at"]) == datetime(2026, 10, 22, 23, 59, 30)
