"""The dashboard at /dashboard: signed in once with an API key, then a session cookie; every form carries a CSRF token.

The cookie names a session kept on the server (reengage.web.sessions), opened with a key: signing out
ends it, and each page checks the key again, so revoking the key signs its dashboard sessions out.
Failed sign-ins from one address are bounded (DASHBOARD_SIGN_IN_LIMIT). Charts are drawn by Plotly,
whose script comes from the installed `plotly` package: the page fetches nothing from outside this server.
"""

from datetime import UTC, datetime, time, timedelta
from functools import cache, wraps
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFProtect
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from plotly.offline import get_plotlyjs

from reengage.models import Account
from reengage.platform import auth, db
from reengage.results import dashboard, metrics
from reengage.settings import effective, metrics_of
from reengage.web import assets, counters, sessions
from reengage.web.routes.metrics import csv_of

PAGES = Path(__file__).resolve().parent.parent / "pages"
blp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder=PAGES)
csrf = CSRFProtect()
# Below this many contacts in the treated or the held-out group, a holdout's lift interval says little: flagged.
HOLDOUT_MIN_SAMPLE = 30
# The longest custom range the dashboard shows.
MAX_RANGE_DAYS = 366
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff",
}


class PeriodSchema(Schema):
    """The last `days` days, or the days `from` to `to` (both included) in the account's time zone."""

    class Meta:
        unknown = RAISE

    days = fields.Integer(load_default=30, validate=validate.OneOf(dashboard.PERIODS))
    since = fields.Date(data_key="from")
    until = fields.Date(data_key="to")

    @validates_schema
    def _a_whole_range(self, data: dict, **_kwargs) -> None:
        if ("since" in data) != ("until" in data):
            raise ValidationError("Give both from and to.", "to" if "since" in data else "from")
        if "since" in data and not data["since"] <= data["until"] <= data["since"] + timedelta(days=MAX_RANGE_DAYS):
            raise ValidationError(f"Must be on or after from, at most {MAX_RANGE_DAYS} days later.", "to")


def init_app(app: Flask) -> None:
    """CSRF tokens for the dashboard's forms and the sign-in throttle (cookie settings: reengage.platform.config)."""
    # The API, authenticated by key on every call, needs no CSRF token.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    csrf.init_app(app)
    # Failed sign-ins per client address within DASHBOARD_SIGN_IN_LIMIT.
    app.extensions["dashboard_sign_in"] = counters.Throttle(app.config["DASHBOARD_SIGN_IN_LIMIT"],
                                                            app.config["REDIS_URL"], "dashboard-sign-in")


@blp.after_request
def _secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in() -> auth.Caller | None:
    return sessions.caller_of(session.get("sid"))


def _for_account(view):
    """A page of the signed-in account for the chosen period (`days`), else the way to the sign-in page."""
    @wraps(view)
    def page():
        caller = _signed_in()
        if caller is None:
            return redirect(url_for("dashboard.sign_in_page"))
        return view(db.session().get(Account, caller.account_id), PeriodSchema().load(request.args))
    return page


@blp.route("", methods=["GET"])
@_for_account
def show(account: Account, period: dict):
    """The dashboard for the chosen period."""
    window = metrics_of(account)["attribution_window"]
    zone = ZoneInfo(effective(account.settings, None)["timezone"])
    start, end, days = _range(period, zone)
    view = dashboard.overview(account.id, window, start, end, days, zone)
    return render_template("dashboard.html", account=account, view=view, periods=dashboard.PERIODS, zone=zone.key,
                           local=lambda moment: moment.astimezone(zone).strftime("%d %b %Y %H:%M"),
                           min_sample=HOLDOUT_MIN_SAMPLE)


@blp.route("/metrics.csv", methods=["GET"])
@_for_account
def download(account: Account, period: dict):
    """The period's metrics by day as CSV (the same as `GET /v1/metrics.csv?group_by=day`)."""
    start, end, _ = _range(period, ZoneInfo(effective(account.settings, None)["timezone"]))
    return csv_of(metrics.metrics(account.id, {"from": start, "to": end, "group_by": "day"}))


def _range(period: dict, zone: ZoneInfo) -> tuple[datetime, datetime, int | None]:
    """The period's start and end in UTC, and its length in days when it is one of the preset ones."""
    if "since" in period:
        start = datetime.combine(period["since"], time(), zone).astimezone(UTC)
        end = datetime.combine(period["until"] + timedelta(days=1), time(), zone).astimezone(UTC)
        return start, end, None
    now = db.utcnow()
    return now - timedelta(days=period["days"]), now, period["days"]


def _next() -> str:
    """Where to go once signed in: a console or dashboard page asked for (never another site), else the dashboard."""
    wanted = request.values.get("next", "")
    safe = wanted.startswith(("/console", "/dashboard")) and "//" not in wanted and "\\" not in wanted
    return wanted if safe else url_for("dashboard.show")


@blp.route("/sign-in", methods=["GET"])
def sign_in_page():
    if _signed_in() is not None:
        return redirect(_next())
    return render_template("sign_in.html", problem=None, next=_next())


@blp.route("/sign-in", methods=["POST"])
def sign_in():
    """Check the key, then start a fresh session (never one an attacker could have planted)."""
    csrf.protect()
    throttle, address = current_app.extensions["dashboard_sign_in"], request.remote_addr or "-"
    wait = throttle.wait(address)
    if wait:
        problem = f"Too many failed sign-ins from your address. Try again in {wait} seconds."
        return render_template("sign_in.html", problem=problem, next=_next()), 429, {"Retry-After": str(wait)}
    key = (request.form.get("api_key") or "").strip()
    caller = auth.lookup(auth.prefix_of(key), auth.hash_key(key)) if key.startswith(auth.KEY_PREFIX) else None
    if caller is None:
        throttle.hit(address)
        problem = "Enter an API key." if not key else "That API key is not valid or has been revoked."
        return render_template("sign_in.html", problem=problem, next=_next()), 401
    session.clear()
    session.permanent = True
    session["sid"] = sessions.open_session(auth.prefix_of(key))
    return redirect(_next())


@blp.route("/sign-out", methods=["POST"])
def sign_out():
    """End the session on the server too, so a copy of the cookie no longer signs anyone in."""
    csrf.protect()
    sessions.close_session(session.get("sid"))
    session.clear()
    return redirect(url_for("dashboard.sign_in_page"))


@blp.route("/assets/plotly.js", methods=["GET"])
def plotly_js():
    """The charting library, from the installed package; gzipped when the browser takes it, cached for a day."""
    return assets.served(*_plotly(), "text/javascript")


@blp.route("/assets/<name>", methods=["GET"])
def asset(name: str):
    """The dashboard's style sheet and script, served as the console's are."""
    found = assets.file(name)
    if found is None:
        abort(404)
    return found


@cache
def _plotly() -> tuple[bytes, bytes]:
    return assets.pack(get_plotlyjs().encode())
