"""Dropoffs a flow refused for now are looked at again: after the contact's run in it ends, after its cooldown."""

from datetime import datetime, timedelta

from reengage.jobs import clock
from reengage.platform import db
from reengage.sequencing import assignment
from tests.jobs.test_clock import statements_of
from tests.support import event
from tests.support.journeys import DANA, T, setup_sales, tick


def lose(client, tenant, key, deal_id, at, reason):
    body = event(key, type="deal.closed_lost", occurred_at=at.isoformat(), contact=DANA,
                 properties={"deal_id": deal_id, "loss_reason": reason})
    assert client.post("/v1/events", json=body, headers=tenant.headers).status_code == 200


def dropoff_of(client, tenant, deal_id):
    [found] = [d for d in client.get("/v1/dropoffs", headers=tenant.headers).json if d["match_value"] == deal_id]
    return found


def test_a_second_lost_deal_gets_its_own_winback_once_the_first_ends_and_the_cooldown_passes(app, client, acme):
    assert client.post("/v1/flows", json={"template": "closed_lost"}, headers=acme.headers).status_code == 201
    lose(client, acme, "l1", "D-1", T, "Price too high")
    lose(client, acme, "l2", "D-2", T + timedelta(hours=1), "They picked Looker")
    tick(app, T + timedelta(hours=2))
    first, second = dropoff_of(client, acme, "D-1"), dropoff_of(client, acme, "D-2")
    assert first["status"] == "enrolled"
    assert second["status"] == "open" and second["ready_at"] is None
    assert second["route_note"].startswith("already enrolled in flow 'closed_lost'")
    tick(app, T + timedelta(days=1))
    assert dropoff_of(client, acme, "D-2")["ready_at"] is None  # still waiting: the first run goes on
    ended = T + timedelta(days=3)
    with db.as_of(ended):
        exited = client.post("/v1/actions/exit", json={"external_id": "dana", "flow": "closed_lost"},
                             headers=acme.headers).json
    assert len(exited["exited"]) == 1
    tick(app, ended + timedelta(seconds=5))
    waiting = dropoff_of(client, acme, "D-2")
    until = datetime.fromisoformat(waiting["ready_at"])
    assert waiting["status"] == "open" and until == ended + timedelta(days=30)
    assert "cooling down" in waiting["route_note"]
    tick(app, until - timedelta(minutes=1))
    assert dropoff_of(client, acme, "D-2")["status"] == "open"
    tick(app, until + timedelta(seconds=1))
    assert dropoff_of(client, acme, "D-2")["status"] == "enrolled"
    runs = client.get("/v1/enrollments", headers=acme.headers).json
    assert sorted(run["dropoff_id"] for run in runs) == sorted([first["id"], second["id"]])


def test_a_waiting_dropoff_dismissed_is_not_enrolled_when_the_run_ends(app, client, acme):
    client.post("/v1/flows", json={"template": "closed_lost", "settings": {"cooldown": "PT1H"}}, headers=acme.headers)
    lose(client, acme, "l1", "D-1", T, "Price too high")
    lose(client, acme, "l2", "D-2", T, "Budget frozen")
    tick(app, T + timedelta(minutes=5))
    waiting = next(d for d in client.get("/v1/dropoffs", headers=acme.headers).json if d["status"] == "open")
    client.post(f"/v1/dropoffs/{waiting['id']}/dismiss", headers=acme.headers)
    with db.as_of(T + timedelta(days=1)):
        client.post("/v1/actions/exit", json={"external_id": "dana", "flow": "closed_lost"}, headers=acme.headers)
    tick(app, T + timedelta(days=2))
    assert len(client.get("/v1/enrollments", headers=acme.headers).json) == 1


def test_ready_dropoffs_are_enrolled_together_in_as_many_statements_however_many_they_are(app, client, acme,
                                                                                         monkeypatch):
    setup_sales(client, acme)
    monkeypatch.setattr(clock, "TASKS", tuple(task for task in clock.TASKS if task is not clock.enroll_ready_dropoffs))

    def enroll(names: list[str], at: datetime) -> list[str]:
        for name in names:
            body = event(f"s-{name}", type="application_started", occurred_at=at.isoformat(),
                         contact={"external_id": name, "email": f"{name}@example.com"})
            assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
        tick(app, at + timedelta(hours=24))  # raises their dropoffs, which wait for the enrolling below

        def run() -> None:
            with app.app_context():
                assert assignment.enroll_ready(at + timedelta(hours=24, minutes=1), 1000) == len(names)

        return statements_of(app, run)

    few = enroll(["ann", "bob"], T)
    many = enroll([f"c{n}" for n in range(9)], T + timedelta(days=1))
    # SQLite's new enrollments go in a statement each, in process (PostgreSQL's in one): the round trips that
    # matter are the others, which must not grow with the dropoffs.
    def round_trips(sent: list[str]) -> int:
        return sum(not statement.startswith("INSERT INTO enrollments") for statement in sent)

    assert round_trips(many) == round_trips(few)
    dropoffs = client.get("/v1/dropoffs?limit=100", headers=acme.headers).json
    assert len(dropoffs) == 11 and {dropoff["status"] for dropoff in dropoffs} == {"enrolled"}
    enrolled = client.get("/v1/enrollments?limit=100", headers=acme.headers).json
    assert sorted(run["dropoff_id"] for run in enrolled) == sorted(dropoff["id"] for dropoff in dropoffs)
