"""SendGrid's machine opens (`sg_machine_open`: a privacy proxy loading every image) kept apart from a person's:
not engagement, not warmth in win-back, counted in metrics as machine opens."""

from datetime import datetime, timedelta

from tests.providers.sendgrid.test_sendgrid import events, sent  # noqa: F401  (the `sent` fixture)
from tests.support.deals import post_deal
from tests.support.journeys import DANA


def machine_open(message: dict) -> list[dict]:
    return events(message, "delivered", "open", sg_machine_open=True)


def test_a_machine_open_is_neither_an_open_nor_engagement(client, acme, sent):  # noqa: F811
    message, path = sent
    answer = client.post(path, json=machine_open(message))
    assert answer.status_code == 200 and answer.json["stored"] == 2, answer.json
    shown = client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json
    assert shown["status"] == "delivered" and shown["opened_at"] is None and shown["machine_opened_at"]
    contact = client.get(f"/v1/contacts/{shown['contact_id']}", headers=acme.headers).json
    assert not contact["engagement"] and contact["engaged_at"] is None
    assert client.get("/v1/triggers/contact.engaged", headers=acme.headers).json == []
    assert [e["type"] for e in client.get("/v1/events?type=email.machine_opened", headers=acme.headers).json] == [
        "email.machine_opened"]


def test_metrics_show_machine_opens_apart_from_opens(client, acme, sent):  # noqa: F811
    message, path = sent
    client.post(path, json=machine_open(message))
    for query in ("", "?group_by=channel"):  # from each dropoff's tally, and from the messages themselves
        [row] = client.get(f"/v1/metrics{query}", headers=acme.headers).json
        assert (row["machine_opened"], row["opened"], row["re_engaged"]) == (1, 0, 0), (query, row)
    header, values = client.get("/v1/metrics.csv", headers=acme.headers).get_data(as_text=True).splitlines()[:2]
    assert dict(zip(header.split(","), values.split(","), strict=True))["machine_opened"] == "1"
    # A person opening it afterwards is an open, and the machine open stays counted once.
    later = events(message, "open")[0] | {"sg_event_id": "evt-person-open", "sg_machine_open": False}
    client.post(path, json=[later])
    [row] = client.get("/v1/metrics", headers=acme.headers).json
    assert (row["machine_opened"], row["opened"], row["re_engaged"]) == (1, 1, 1)


def test_a_machine_open_does_not_warm_a_lost_deal(client, acme, sent):  # noqa: F811
    message, path = sent
    lost = datetime.fromisoformat(message["sent_at"]) - timedelta(days=1)
    deal = post_deal(client, acme, at=lost, contacts=[{"email": DANA["email"]}], loss_reason="Price too high")
    client.post(path, json=machine_open(message))
    reasons = client.get(f"/v1/deals/{deal['id']}", headers=acme.headers).json["score_reasons"]
    assert "relationship_warmth" not in [r["signal"] for r in reasons]
    person = events(message, "open")[0] | {"sg_event_id": "evt-person-open"}
    client.post(path, json=[person])
    reasons = client.get(f"/v1/deals/{deal['id']}", headers=acme.headers).json["score_reasons"]
    assert "relationship_warmth" in [r["signal"] for r in reasons]
