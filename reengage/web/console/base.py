"""What every console page shares: the dashboard's sign-in and session, CSRF on every form, errors shown by field.

Forms go through the same marshmallow schemas and services as the API; `attempt` turns the API's
errors (an ApiError naming fields, or a marshmallow ValidationError) into messages by field, so a
page shows each one beside its input instead of answering JSON.
"""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, g, redirect, render_template, request, session, url_for
from marshmallow import ValidationError

from reengage.models import Account
from reengage.platform import db
from reengage.platform.errors import ApiError, api_error, error_response, flatten
from reengage.settings import effective
from reengage.web import assets, sessions
from reengage.web.routes.dashboard import SECURITY_HEADERS, csrf

PAGES = Path(__file__).resolve().parent.parent / "pages"
blp = Blueprint("console", __name__, url_prefix="/console", template_folder=PAGES)


@blp.before_request
def _signed_in():
    """Act for the session's account (as the API does for a key), else go and sign in; check every form's token."""
    if request.endpoint == "console.asset":
        return None
    caller = sessions.caller_of(session.get("sid"))
    if caller is None:
        return redirect(url_for("dashboard.sign_in_page", next=request.path))
    g.caller = caller
    if request.method == "POST":
        csrf.protect()
    return None


@blp.after_request
def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def account() -> Account:
    """The signed-in account."""
    return db.session().get_one(Account, g.caller.account_id)


def page(template: str, **context: Any) -> str:
    """A console page, with the account for the header and its time zone for every time shown."""
    found = account()
    zone = ZoneInfo(effective(found.settings, None)["timezone"])

    def when(moment: datetime | None) -> str:
        return "-" if moment is None else moment.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")

    return render_template(f"console/{template}", account=found, when=when, zone=zone.key, **context)


def attempt(work: Callable[[], Any], prefix: str = "") -> tuple[Any, dict[str, str]]:
    """Run `work` (a schema load and a service call); its result, or the problems by field (`prefix` dropped)."""
    try:
        return work(), {}
    except ValidationError as error:
        pairs = flatten(error.messages)
    except ApiError as error:
        pairs = [(p["field"], p["message"]) for p in (error.details or {}).get("fields", [])] or [
            ("form", error.message)]
    db.session().rollback()
    problems: dict[str, str] = {}
    for field, message in pairs:
        problems.setdefault(field.removeprefix(prefix).lstrip(".") or "form", message)
    return None, problems


@blp.errorhandler(404)
@blp.errorhandler(ApiError)
def _missing(error: Exception):
    """A page of this console that names nothing of this account (or another's) is a page, not JSON."""
    if isinstance(error, ApiError) and error.status != 404:
        return api_error(error)
    if "caller" not in g:  # an asset: no page around it
        return error_response(404, "not_found", "No such file.")
    db.session().rollback()
    return page("missing.html", problems={}), 404


@blp.route("/assets/<name>")
def asset(name: str):
    """A style sheet or script, gzipped when the browser takes it, cached for a day."""
    found = assets.file(name)
    if found is None:
        abort(404)
    return found
