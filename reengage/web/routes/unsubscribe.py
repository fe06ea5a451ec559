"""One-click unsubscribe: `GET /u/<token>` asks, `POST /u/<token>` unsubscribes (RFC 8058 one-click)."""

from flask import Blueprint, Response
from markupsafe import escape
from sqlalchemy import select

from reengage.models import Account, Contact
from reengage.platform import db
from reengage.sending import unsubscribe
from reengage.sequencing import enrollments

blp = Blueprint("unsubscribe", __name__)
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title></head>
<body style="font-family:Arial,sans-serif;max-width:480px;margin:64px auto;padding:0 16px;color:#222">
<h1 style="font-size:22px">{title}</h1><p>{text}</p>{form}</body></html>"""
# The page may not be framed: another site could overlay it and have the button clicked unseen.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
}


@blp.after_request
def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@blp.route("/u/<token>", methods=["GET"])
def confirm(token: str):
    """A page with one button: a link scanner that follows the link unsubscribes no one."""
    found = _find(token)
    if found is None:
        return _page(404, "Link not recognised", "This unsubscribe link is not valid. It may have been cut short.")
    account, _, channel = found
    form = ('<form method="post"><button type="submit" style="font-size:16px;padding:10px 18px">'
            "Unsubscribe</button></form>")
    return _page(200, "Unsubscribe", f"Stop {escape(_what(channel))} from {escape(account.name)}?", form)


@blp.route("/u/<token>", methods=["POST"])
def unsubscribe_now(token: str):
    """Unsubscribe the contact from the token's channel; doing it twice is the same as once."""
    found = _find(token)
    if found is None:
        return _page(404, "Link not recognised", "This unsubscribe link is not valid. It may have been cut short.")
    account, contact_id, channel = found
    with db.transaction():
        enrollments.suppress(account.id, contact_id, channel, "unsubscribed", db.utcnow())
    return _page(200, "You are unsubscribed", f"You will get no more {escape(_what(channel))} from "
                                              f"{escape(account.name)}.")


def _find(token: str) -> tuple[Account, int, str] | None:
    read = unsubscribe.read(token)
    if read is None:
        return None
    account_id, contact_id, channel, _ = read
    account = db.session().scalar(select(Account).join(Contact, Contact.account_id == Account.id).where(
        Account.id == account_id, Contact.id == contact_id))
    return None if account is None else (account, contact_id, channel)


def _what(channel: str) -> str:
    return {"email": "emails", "sms": "text messages", "voice": "calls"}.get(channel, f"{channel} messages")


def _page(status: int, title: str, text: str, form: str = "") -> Response:
    return Response(PAGE.format(title=escape(title), text=text, form=form), status, mimetype="text/html")
