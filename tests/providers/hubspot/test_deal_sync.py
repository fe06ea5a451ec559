"""The closed-lost deal sync against a HubSpot whose search pages through a capped number of results per query."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from reengage.jobs import clock
from reengage.models import Connection, Deal
from reengage.platform import db
from reengage.providers.hubspot.client import HubSpotCRM
from tests.fakes.hubspot import error
from tests.providers.hubspot.test_hubspot import deal, urls  # noqa: F401  (the `urls` fixture)
from tests.support.connections import HUBSPOT

START = datetime(2026, 11, 1, tzinfo=UTC)


def lost_deals(hubspot, count: int, per_instant: int = 3) -> list[str]:
    """`count` closed-lost deals, `per_instant` of them changed in the same millisecond (as a bulk edit does)."""
    ids = [str(1000 + n) for n in range(count)]
    for n, deal_id in enumerate(ids):
        moment = START + timedelta(minutes=n // per_instant)
        hubspot.deals.append(deal(deal_id, "closedlost", moment.isoformat().replace("+00:00", "Z")))
    return ids


def fetched(hubspot) -> Counter:
    """How often each deal was read in full (once per deal recorded)."""
    return Counter(r.path.split("?")[0].rsplit("/", 1)[1] for r in hubspot.made("GET", r"/crm/v3/objects/deals/\w+"))


def searches(hubspot) -> list[dict]:
    return [r.json for r in hubspot.made("POST", "/crm/v3/objects/deals/search")]


def sync_on(client, acme):
    client.put("/v1/connections/hubspot", json={**HUBSPOT, "sync_closed_lost": True}, headers=acme.headers)


def stored_deals(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Deal))


def test_the_sync_pages_past_the_search_cap_missing_and_repeating_no_deal(app, client, acme, urls, hubspot,  # noqa: F811
                                                                         monkeypatch):
    # HubSpot's wall is at 10,000 results: the fake and the client both put it at 250, to reach it with fewer deals.
    hubspot.search_cap = 250
    monkeypatch.setattr(HubSpotCRM, "search_cap", 250)
    ids = lost_deals(hubspot, 640)
    sync_on(client, acme)
    clock.tick(app)
    assert fetched(hubspot) == Counter({deal_id: 1 for deal_id in ids})
    assert stored_deals(app) == 640
    made = searches(hubspot)
    assert all(int(body.get("after") or 0) + body["limit"] <= 250 for body in made)  # never asked past the cap
    restarts = [body for body in made[1:] if not body.get("after")]
    assert len(restarts) >= 2 and all(
        {"propertyName": "hs_lastmodifieddate", "operator": "GTE"}.items() <= f.items()
        for body in restarts for f in body["filterGroups"][0]["filters"] if f["propertyName"] != "dealstage")


def test_a_sync_cut_off_resumes_after_the_last_page_it_handled(app, client, acme, urls, hubspot):  # noqa: F811
    ids = lost_deals(hubspot, 250)
    hubspot.search_failures[2] = error(503, "Service unavailable", "SERVICE_UNAVAILABLE")
    sync_on(client, acme)
    clock.tick(app)
    assert stored_deals(app) == 100  # the first page, kept though the second could not be read
    with app.app_context():
        cursor = db.session().scalar(select(Connection.cursor).where(Connection.provider == "hubspot"))
    assert cursor["deals_modified_after"] == hubspot.deals[99]["properties"]["hs_lastmodifieddate"]
    assert sorted(cursor["deals_seen_at_mark"]) == sorted(ids[99:100])
    with app.app_context(), db.as_of(db.utcnow() + timedelta(minutes=1)):
        clock.tick(app, at=db.utcnow())
    assert fetched(hubspot) == Counter({deal_id: 1 for deal_id in ids}) and stored_deals(app) == 250
    resumed = searches(hubspot)[2]
    assert {"propertyName": "hs_lastmodifieddate", "operator": "GTE",
            "value": cursor["deals_modified_after"]} in resumed["filterGroups"][0]["filters"]

