"""Getting started: a checklist read from the account's real state, and "try it now" (one test contact run
through a rule with a start backdated past its wait, so the clock raises the dropoff at its next tick)."""

import secrets
from datetime import timedelta
from typing import Any

from flask import redirect, request, url_for
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import exists, select

from reengage import connections
from reengage.intake import contacts, ingest
from reengage.models import Contact, Event, Flow, FlowRoute, Message, Rule
from reengage.platform import db, durations
from reengage.platform.errors import field_error
from reengage.platform.fields import Email
from reengage.web.console.base import account, attempt, blp, page

# Kinds one event can trigger: a start (or an error) and then the rule's wait (or settle) with nothing after it.
TRIABLE = ("inactivity", "failure_end_state")


class TryItSchema(Schema):
    """Who to run through which rule."""

    class Meta:
        unknown = RAISE

    rule = fields.String(required=True, validate=validate.Length(1, 100))
    email = Email(required=True, validate=validate.Length(max=320))
    first_name = fields.String(load_default=None, validate=validate.Length(max=200))


def checklist(account_id: int) -> list[dict[str, Any]]:
    """Each setup step with whether the account has done it, and where to do it."""
    def mine(model: Any, *where: Any) -> bool:
        return bool(db.session().scalar(select(exists().where(model.account_id == account_id, *where))))

    email = connections.find(account_id, "sendgrid") is not None
    outbox = mine(Message, Message.provider == "outbox")
    return [
        {"key": "email", "done": email or outbox, "link": url_for("console.connections_page"),
         "title": "Connect SendGrid, or keep emails in the outbox",
         "detail": "SendGrid is connected." if email else "Emails are kept in the outbox until SendGrid is connected."},
        {"key": "flow", "done": mine(FlowRoute), "link": url_for("console.flows"),
         "title": "Clone a flow template and choose the rules it answers",
         "detail": "A flow enrolls the dropoffs of the rules and scenarios it names."},
        {"key": "window", "done": "send_window" in (account().settings or {}), "link": url_for("console.settings_page"),
         "title": "Widen the send window, or keep 09:00-18:00 on weekdays",
         "detail": "Messages wait for the window in each contact's time zone."},
        {"key": "event", "done": mine(Event), "link": "#try", "title": "Send a first event",
         "detail": "Try it now below, or post one to /v1/events."},
    ]


def triable_rules(account_id: int) -> list[Rule]:
    """The account's enabled rules that one event can trigger."""
    return list(db.session().scalars(select(Rule).where(Rule.account_id == account_id, Rule.enabled,
                                                        Rule.kind.in_(TRIABLE)).order_by(Rule.key)))


def flow_names(account_id: int) -> list[str]:
    """The account's flows, by name (none: the page says a dropoff would enroll nowhere)."""
    return list(db.session().scalars(select(Flow.name).where(Flow.account_id == account_id,
                                                             Flow.deleted_at.is_(None))))


def try_it(account_id: int, data: dict[str, Any]) -> Contact:
    """Record the rule's start for a test contact, backdated past the wait: the next tick raises its dropoff."""
    rule = db.session().scalar(select(Rule).where(Rule.account_id == account_id, Rule.key == data["rule"],
                                                  Rule.enabled, Rule.kind.in_(TRIABLE)))
    if rule is None:
        raise field_error("rule", "Choose one of the enabled rules listed.")
    found = db.session().scalar(select(Contact).where(Contact.account_id == account_id,
                                                      contacts.matching(account_id, "email", data["email"])))
    if found is not None and not found.test:
        raise field_error("email", "A real contact has this address; use another one for a test.")
    contact = contacts.upsert_one(account_id, {"email": data["email"], "first_name": data["first_name"]})
    contact.test = True
    db.session().commit()
    if rule.kind == "inactivity":
        kind, wait = rule.params["start_events"][0], durations.parse(rule.params["wait"])
    else:
        kind, wait = next(iter(rule.params["error_events"])), durations.parse(rule.params.get("settle", "PT30M"))
    body = {"id": f"try-{secrets.token_hex(6)}", "type": kind, "contact": {"email": contact.email},
            "occurred_at": (db.utcnow() - wait - timedelta(minutes=1)).isoformat(), "source": "console-test"}
    with ingest.arrival() as token:
        events, _ = ingest.parse(body)
        ingest.ingest(account_id, events, "", token)
    return contact


@blp.route("")
def start():
    """The checklist and the try-it-now form."""
    account_id = account().id
    return page("start.html", steps=checklist(account_id), rules=triable_rules(account_id), problems={}, form={},
                flows=flow_names(account_id))


@blp.route("/try", methods=["POST"])
def try_now():
    """Run one test contact through a rule; then show their timeline, where the dropoff appears."""
    account_id = account().id
    contact, problems = attempt(lambda: try_it(account_id, TryItSchema().load(_form())))
    if problems:
        return page("start.html", steps=checklist(account_id), rules=triable_rules(account_id), problems=problems,
                    form=request.form, flows=flow_names(account_id)), 422
    return redirect(url_for("console.contact", contact_id=contact.id, started=1))


def _form() -> dict[str, Any]:
    return {name: value for name, value in request.form.items() if name != "csrf_token" and value != ""}
