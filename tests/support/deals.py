"""Lost deals, their signals and outcomes, posted through HTTP."""

from datetime import UTC, datetime

from reengage.platform import db

LOST = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)


SARAH = {"email": "sarah@datatech.example", "first_name": "Sarah", "last_name": "Johnson"}


def post_deal(client, tenant, at=LOST, **fields):
    body = {"external_id": "D-1", "name": "DataTech analytics platform", "company": "DataTech", "lost_at":
            at.isoformat(), **fields}
    with db.as_of(at):
        response = client.post("/v1/deals", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.json
    return response.json


def signal(client, tenant, deal_id, kind, summary, at, **extra):
    with db.as_of(at):
        response = client.post(f"/v1/deals/{deal_id}/signals", json={"kind": kind, "summary": summary, **extra},
                               headers=tenant.headers)
    assert response.status_code == 200, response.json
    return response.json


def outcome(client, tenant, deal_id, kind, at, **extra):
    with db.as_of(at):
        response = client.post(f"/v1/deals/{deal_id}/outcomes", json={"type": kind, "occurred_at": at.isoformat(),
                                                                      **extra}, headers=tenant.headers)
    assert response.status_code == 200, response.json
    return response.json
