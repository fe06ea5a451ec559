"""Settings in the console: time zone, holidays, send window, frequency cap, cooldown and message costs.

The form is the API's PATCH /v1/settings: AccountSettingsSchema checks it, each field replaces the stored one.
"""

from typing import Any

from flask import redirect, request, url_for
from sqlalchemy import select

from reengage import connections
from reengage.channels import CHANNELS
from reengage.models import Message
from reengage.platform import db, timing
from reengage.settings import AccountSettingsSchema, effective
from reengage.web.console.base import account, attempt, blp, page


def _changes(form: Any) -> dict[str, Any]:
    """The form as the API's settings body (empty costs left out)."""
    changes: dict[str, Any] = {
        "timezone": form.get("timezone", ""), "country": form.get("country") or None,
        "skip_holidays": form.get("skip_holidays") == "on", "cooldown": form.get("cooldown", ""),
        "send_window": {"start": form.get("window_start", ""), "end": form.get("window_end", ""),
                        "days": form.getlist("window_days")},
        "frequency_cap": {"messages": form.get("cap_messages", ""), "per": form.get("cap_per", "")},
    }
    costs = {channel: form[f"cost_{channel}"] for channel in CHANNELS if form.get(f"cost_{channel}")}
    stored = effective(account().settings, None)["metrics"]
    changes["metrics"] = {**stored, "costs": costs}
    return changes


def _save(changes: dict[str, Any]) -> None:
    data = AccountSettingsSchema().load(changes)
    with db.transaction():
        found = account()
        found.settings = {**(found.settings or {}), **data}


@blp.route("/settings", endpoint="settings_page")
def settings_page(problems: dict | None = None, status: int = 200):
    """The settings in effect, as a form; the connections and where the outbox stands."""
    account_id = account().id
    shown = effective(account().settings, None)
    links = {key: connections.find(account_id, key) for key in ("sendgrid", "hubspot")}
    outbox = db.session().scalar(select(Message.id).where(Message.account_id == account_id,
                                                         Message.provider == "outbox").limit(1)) is not None
    return page("settings.html", settings=shown, weekdays=timing.WEEKDAYS, channels=list(CHANNELS), links=links,
                outbox=outbox, problems=problems or {}, form=request.form if problems else None), status


@blp.route("/settings", methods=["POST"])
def save_settings():
    """Save the settings; future sends (and scheduled ones, as they come due) follow them."""
    _, problems = attempt(lambda: _save(_changes(request.form)))
    if problems:
        return settings_page(problems, 422)
    return redirect(url_for("console.settings_page", saved=1))
