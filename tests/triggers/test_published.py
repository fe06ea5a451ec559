"""Trigger items as published: the bytes marshmallow gave, each item as of its event, no ORM, indexed filters."""

import sys
from datetime import datetime, timedelta

import pytest
from marshmallow import Schema
from sqlalchemy import delete, select, text, update

from reengage.models import Contact, Dropoff, TriggerItem
from reengage.platform import db
from reengage.schemas.contact import ContactSchema
from reengage.schemas.dropoff import DropoffSchema
from tests.support import event
from tests.support.deals import LOST, SARAH, post_deal, signal
from tests.support.journeys import DANA, T, abandon, messages, setup_sales, tick
from triggers import TRIGGERS

KIM = {**DANA, "external_id": "kim", "email": "kim@example.com", "first_name": "Kim", "phone": "+14155550100"}


@pytest.fixture
def checked(monkeypatch):
    """Every item a trigger renders is dumped by marshmallow too, and the two must be the same, key order included."""
    for trigger in TRIGGERS.values():
        module = sys.modules[trigger.render.__module__]
        schema = trigger.item()

        def both(obj, fast=module._ITEM, schema=schema):
            answer, expected = fast(obj), schema.dump(obj)
            assert answer == expected and list(answer) == list(expected)
            return answer

        monkeypatch.setattr(module, "_ITEM", both)


@pytest.fixture
def everything(app, client, acme, checked):
    """Items of every trigger: two dropoffs, a webhook message, a recovery, a click, a ready deal and its escalation."""
    setup_sales(client, acme)
    dana = abandon(app, client, acme, DANA)
    abandon(app, client, acme, KIM, key="s2", at=T + timedelta(hours=1))
    nudge = messages(client, acme, dana["id"])["1.text-nudge"]
    tick(app, datetime.fromisoformat(nudge["due_at"]))
    clicked = event("c1", type="email.clicked", occurred_at=(T + timedelta(days=2)).isoformat(),
                    contact={"external_id": "dana"}, properties={"url": "https://app.example.com/x"})
    assert client.post("/v1/events", json=clicked, headers=acme.headers).status_code == 200
    done = event("done", type="application_completed", occurred_at=(T + timedelta(days=2, hours=1)).isoformat(),
                 contact={"external_id": "dana"}, value=249)
    assert client.post("/v1/events", json=done, headers=acme.headers).status_code == 200
    deal = post_deal(client, acme, loss_reason="Went with a competitor", arr=600000, contacts=[SARAH],
                     owner="Jordan Lee")
    deal = signal(client, acme, deal["id"], "funding", "raised a round", LOST + timedelta(days=10))
    tick(app, datetime.fromisoformat(deal["window_start"]) + timedelta(seconds=1))
    for key in TRIGGERS:
        assert client.get(f"/v1/triggers/{key}", headers=acme.headers).json, key


def raw(client, tenant, key, query=""):
    response = client.get(f"/v1/triggers/{key}?{query}", headers=tenant.headers)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.data


def test_items_never_published_are_rendered_as_marshmallow_renders_them(app, client, acme, everything):
    """Items made before trigger items were kept: the poll renders them now, with the bytes the ORM and schemas gave."""
    with app.app_context(), db.transaction() as session:
        session.execute(delete(TriggerItem))
    for key in TRIGGERS:  # `checked` compares every item with marshmallow's dump of it
        assert raw(client, acme, key) == raw(client, acme, key)
    with app.app_context():
        rows = db.session().execute(select(Dropoff, Contact).join(Contact, Contact.id == Dropoff.contact_id)
                                    .order_by(Dropoff.detected_at.desc(), Dropoff.id.desc())).all()
        expected = app.json.response([{**DropoffSchema().dump(dropoff), "contact": ContactSchema().dump(contact)}
                                      for dropoff, contact in rows]).data
    assert raw(client, acme, "dropoff.detected") == expected


def test_a_poll_shows_each_item_as_it_was_published(app, client, acme, everything):
    """The dropoff was recovered and its contact renamed since: the poll shows both as detected, as the hook did."""
    [_, dana] = client.get("/v1/triggers/dropoff.detected", headers=acme.headers).json
    assert dana["status"] == "open" and dana["contact"]["first_name"] == "Dana"
    assert client.get(f"/v1/dropoffs/{dana['id']}", headers=acme.headers).json["status"] == "recovered"
    changed = client.post("/v1/contacts", json={"external_id": "dana", "first_name": "Danielle"}, headers=acme.headers)
    assert changed.status_code in (200, 201)
    [_, again] = client.get("/v1/triggers/dropoff.detected", headers=acme.headers).json
    assert again == dana
    with app.app_context():
        published = db.session().scalar(select(TriggerItem.body).where(TriggerItem.trigger == "dropoff.detected",
                                                                        TriggerItem.item_id == dana["id"]))
    assert published is not None and f'"id":{dana["id"]},' in published


def test_every_trigger_answers_its_published_texts_joined(app, client, acme, everything):
    for key in TRIGGERS:
        with app.app_context():
            texts = dict(db.session().execute(select(TriggerItem.item_id, TriggerItem.body)
                                              .where(TriggerItem.trigger == key)).all())
        items = client.get(f"/v1/triggers/{key}", headers=acme.headers).json
        assert texts and set(texts) == {item["id"] for item in items}, key
        assert raw(client, acme, key) == f"[{','.join(texts[item['id']] for item in items)}]\n".encode(), key


def test_a_poll_loads_no_orm_object_and_calls_no_schema(app, client, acme, everything, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a poll dumped through marshmallow")

    monkeypatch.setattr(Schema, "dump", refuse)
    loaded = []
    with app.app_context():
        from sqlalchemy import event as orm_event
        from sqlalchemy.orm import Session

        def count(session, instance):
            loaded.append(instance)

        orm_event.listen(Session, "loaded_as_persistent", count)
        try:
            for key in TRIGGERS:
                assert raw(client, acme, key).startswith(b"[{")
        finally:
            orm_event.remove(Session, "loaded_as_persistent", count)
    assert loaded == []


def test_test_contacts_items_are_listed_as_before(app, client, acme):
    """The console's test runs are kept out of metrics, not out of triggers."""
    setup_sales(client, acme)
    assert client.post("/v1/contacts", json=DANA, headers=acme.headers).status_code in (200, 201)
    with app.app_context(), db.transaction() as session:
        session.execute(update(Contact).values(test=True))
    abandon(app, client, acme, DANA)
    [item] = client.get("/v1/triggers/dropoff.detected", headers=acme.headers).json
    with app.app_context():
        assert db.session().get(Dropoff, item["id"]).test


@pytest.mark.parametrize("name", ["scenario", "stage", "intent", "rule"])
def test_each_dropoff_filter_is_read_through_its_own_index(app, acme, name):
    """A filter matching nothing finds nothing at once, rather than walking the account's whole index."""
    from triggers import polling

    trigger = TRIGGERS["dropoff.detected"]
    statement = polling._page_statement(trigger, ((name, "nothing"),), False)
    column = {"rule": "rule_key"}.get(name, name)
    with app.app_context():
        connection = db.session().connection()
        sql = statement.params(account_id=acme.id, limit=100).compile(
            connection, compile_kwargs={"literal_binds": True})
        if connection.dialect.name == "postgresql":  # its tables are too small here for it to choose an index
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))
        else:
            plan = " ".join(row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert f"ix_dropoffs_account_{column}_newest" in plan, plan
