"""Contacts in the console: search by email, external id or phone, and one contact's journey as a timeline."""

from typing import Any

from flask import abort, redirect, request, url_for
from sqlalchemy import select

from actions import exit as exit_action
from reengage.models import Contact, Dropoff, Enrollment, Event, Flow, Message
from reengage.platform import db
from reengage.schemas.contact import ContactQuerySchema
from reengage.web.console.base import account, attempt, blp, page
from reengage.web.routes import dropoffs
from searches import find_contact

SEARCHABLE = {"email": "Email", "external_id": "External id", "phone": "Phone"}
RECENT = 25


@blp.route("/contacts")
def contacts():
    """A search form and its matches (the API's GET /v1/contacts), else the newest contacts."""
    by, text = request.args.get("by", "email"), request.args.get("q", "").strip()
    problems: dict[str, str] = {}
    found: Any = []
    if by not in SEARCHABLE:
        problems = {"by": f"Search by one of {', '.join(SEARCHABLE)}."}
    elif text:
        found, problems = attempt(lambda: find_contact.search(account().id, ContactQuerySchema().load({by: text})))
        problems = {"q": next(iter(problems.values()))} if problems else {}
    else:
        found = db.session().scalars(select(Contact).where(Contact.account_id == account().id)
                                     .order_by(Contact.id.desc()).limit(RECENT)).all()
    return page("contacts.html", found=found or [], by=by, q=text, searchable=SEARCHABLE, problems=problems,
                searched=bool(text)), 422 if problems else 200


def timeline(contact: Contact) -> dict[str, Any]:
    """Everything that happened to the contact, each list oldest first."""
    session = db.session()
    flows = {flow.id: flow for flow in session.scalars(select(Flow).where(Flow.account_id == contact.account_id))}
    enrolled = session.scalars(select(Enrollment).where(Enrollment.contact_id == contact.id, Enrollment.account_id ==
                                                        contact.account_id).order_by(Enrollment.started_at,
                                                                                     Enrollment.id)).all()
    sent = session.scalars(select(Message).where(Message.contact_id == contact.id, Message.account_id ==
                                                 contact.account_id).order_by(Message.due_at, Message.id)).all()
    return {
        "events": session.scalars(select(Event).where(Event.contact_id == contact.id, Event.account_id ==
                                                      contact.account_id).order_by(Event.occurred_at.desc())
                                  .limit(100)).all(),
        "dropoffs": session.scalars(select(Dropoff).where(Dropoff.contact_id == contact.id, Dropoff.account_id ==
                                                          contact.account_id).order_by(Dropoff.detected_at)).all(),
        "enrollments": [{"row": e, "flow": flows.get(e.flow_id), "messages": [m for m in sent
                                                                             if m.enrollment_id == e.id]}
                        for e in enrolled],
    }


def _contact(contact_id: int) -> Contact:
    found = db.session().scalar(select(Contact).where(Contact.id == contact_id, Contact.account_id == account().id))
    if found is None:
        abort(404)
    return found


@blp.route("/contacts/<int:contact_id>")
def contact(contact_id: int, problems: dict | None = None, status: int = 200):
    """One contact's journey: events, dropoffs and why, enrollments with every message, and exits."""
    found = _contact(contact_id)
    shown = timeline(found)
    # Just after "try it now", the page refreshes itself until the first message is planned.
    waiting = request.args.get("started") == "1" and not any(e["messages"] for e in shown["enrollments"])
    return page("contact.html", contact=found, problems=problems or {}, waiting=waiting, **shown), status


@blp.route("/contacts/<int:contact_id>/dropoffs/<int:dropoff_id>/dismiss", methods=["POST"])
def dismiss(contact_id: int, dropoff_id: int):
    """Dismiss a dropoff of the contact (the API's POST /v1/dropoffs/{id}/dismiss)."""
    _contact(contact_id)
    _, problems = attempt(lambda: dropoffs.dismiss(dropoff_id))
    if problems:
        return contact(contact_id, problems, 409)
    return redirect(url_for("console.contact", contact_id=contact_id))


@blp.route("/contacts/<int:contact_id>/enrollments/<int:enrollment_id>/exit", methods=["POST"])
def exit_enrollment(contact_id: int, enrollment_id: int):
    """Take the contact out of one flow (the API's exit action, reason `manual`)."""
    _contact(contact_id)
    enrollment = db.session().scalar(select(Enrollment).where(Enrollment.id == enrollment_id,
                                                              Enrollment.contact_id == contact_id))
    if enrollment is None:
        abort(404)
    data = {"contact_id": contact_id, "flow": str(enrollment.flow_id), "reason": "manual"}
    _, problems = attempt(lambda: exit_action.perform(account().id, exit_action.ExitInput().load(data)))
    if problems:
        return contact(contact_id, problems, 409)
    return redirect(url_for("console.contact", contact_id=contact_id))
