"""The outbox in the console: emails kept while no SendGrid account is connected, as they were rendered."""

from flask import request
from sqlalchemy import select

from reengage.models import Contact, Message
from reengage.platform import db
from reengage.web.console.base import account, blp, page
from reengage.web.routes.enrollments import IN_OUTBOX

SHOWN = 50


@blp.route("/outbox")
def outbox():
    """The newest emails in the outbox (the API's GET /v1/outbox), each with its contact."""
    query = (select(Message, Contact).join(Contact, Contact.id == Message.contact_id)
             .where(Message.account_id == account().id, *IN_OUTBOX)
             .order_by(Message.sent_at.desc(), Message.id.desc()).limit(SHOWN))
    shown = request.args.get("message", type=int)
    return page("outbox.html", kept=db.session().execute(query).all(), shown=shown)
