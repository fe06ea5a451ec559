"""Journeys through HTTP and the clock with time travel: a sales flow, an abandoned application, its messages."""

from datetime import UTC, datetime, timedelta

from reengage.jobs import clock
from reengage.platform import db
from tests.support import event

# Tuesday 20 October 2026, 13:00 UTC: the flows below cross the end of DST in Europe (25 October)
# and North America (1 November), US Thanksgiving and the year's end.
T = datetime(2026, 10, 20, 13, 0, tzinfo=UTC)


def tick(app, when: datetime):
    return clock.tick(app, at=when)


def setup_sales(client, tenant, **flow):
    """The account's settings and a sales flow cloned from the template, without a holdout unless asked."""
    assert client.patch("/v1/settings", json={"timezone": "America/New_York", "country": "US"},
                        headers=tenant.headers).status_code == 200
    response = client.post("/v1/flows", json={"template": "sales", "holdout_percent": 0, **flow},
                           headers=tenant.headers)
    assert response.status_code == 201, response.json
    return response.json


def abandon(app, client, tenant, contact, key="s1", at=T, **properties):
    """An application started and left: the dropoff is raised and enrolled at the deadline (at + 24 h)."""
    body = event(key, type="application_started", occurred_at=at.isoformat(), contact=contact,
                 properties={"deep_link": "https://app.example.com/resume/77", **properties})
    assert client.post("/v1/events", json=body, headers=tenant.headers).status_code == 200
    tick(app, at + timedelta(hours=24))
    [enrollment] = client.get(f"/v1/enrollments?contact_id={contact_id(client, tenant, contact)}",
                              headers=tenant.headers).json
    return client.get(f"/v1/enrollments/{enrollment['id']}", headers=tenant.headers).json


def contact_id(client, tenant, contact) -> int:
    return client.get(f"/v1/contacts?external_id={contact['external_id']}", headers=tenant.headers).json[0]["id"]


class RecordingQueue:
    """Holds jobs instead of running them, so a test can act between the clock and the worker."""

    def __init__(self):
        self.jobs = []

    def enqueue(self, func, *args, job_id=None):
        self.jobs.append((func, args))

    def run(self, app, at: datetime, repeat: int = 1):
        jobs, self.jobs = self.jobs, []
        for _ in range(repeat):
            for func, args in jobs:
                with app.app_context(), db.as_of(at):
                    func(*args)


DANA = {"external_id": "dana", "email": "dana@example.com", "first_name": "Dana", "phone": "+14155552671",
        "timezone": "America/New_York", "country": "US"}


def messages(client, tenant, enrollment_id):
    return {m["step"]: m for m in client.get(f"/v1/enrollments/{enrollment_id}", headers=tenant.headers).json[
        "messages"]}
