"""What the dashboard shows for a period: headline figures, its charts (as Plotly figures) and the latest dropoffs.

Every figure comes from the same queries as the API (`GET /v1/metrics`, `/v1/metrics/ab-tests`,
`/v1/metrics/holdout`), so the page and the API never disagree. A chart with nothing to show in the
period is None, and the page says so instead of drawing empty axes.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, func, select

from reengage.models import Contact, Dropoff
from reengage.platform import db
from reengage.results import experiments, metrics, rollups

PERIODS = (7, 30, 90, 365)
UTC_ZONE = ZoneInfo("UTC")
LATEST = 20
COLOURS = {"dropoffs": "#9aa5b1", "enrolled": "#5b8def", "re_engaged": "#f0a431", "recovered": "#2e9e6a",
           "held_out": "#9aa5b1", "treated": "#2e9e6a", "clicked": "#5b8def", "revenue": "#7b5ea7"}
# The legend sits at the foot of the chart, below the axes' ticks and titles, whose margins grow to fit them
# (automargin): no label is drawn over another at any width.
LAYOUT = {"margin": {"l": 48, "r": 16, "t": 36, "b": 16}, "height": 300,
          "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
          "xaxis": {"automargin": True}, "yaxis": {"automargin": True},
          "font": {"family": "system-ui, sans-serif", "size": 12}, "paper_bgcolor": "#ffffff",
          "plot_bgcolor": "#ffffff", "bargap": 0.25}


def _axis(**settings: Any) -> dict[str, Any]:
    """An axis whose margin grows to fit its ticks and title."""
    return {"automargin": True, **settings}


def overview(account_id: int, window: timedelta, start: datetime, now: datetime, days: int | None,
             zone: ZoneInfo = UTC_ZONE) -> dict[str, Any]:
    """The dashboard of dropoffs detected from `start` to `now` (the last `days` days, or a custom range when None),
    its days counted in `zone`; A/B recoveries count within the attribution `window`."""
    period = {"from": start, "to": now}

    def grouped(by: str) -> Callable[[], list[dict[str, Any]]]:
        return lambda: metrics.metrics(account_id, {**period, "group_by": by}, medians=())

    # The page's reads are independent: they run side by side, the longest first. It shows one median (the time
    # to recovery, in all): the others are not worked out.
    read = db.reads_side_by_side({
        "ab_tests": lambda: experiments.ab_tests(account_id, period, window),
        "holdout": lambda: experiments.holdout(account_id, period),
        "daily": lambda: daily(account_id, period, zone),
        "totals": lambda: metrics.metrics(account_id, period, medians=("recovery_seconds",)),
        "phases": grouped("phase"), "channels": grouped("channel"), "stages": grouped("stage"),
        "latest": lambda: latest(account_id), "revenue": lambda: revenue_by_currency(account_id, period)})
    [totals], ab_tests, lift = read["totals"], read["ab_tests"], read["holdout"]
    return {
        "days": days, "from": start, "to": now, "totals": totals,
        "charts": {
            "funnel": _funnel(read["stages"]),
            "over_time": _over_time(read["daily"], start.astimezone(zone).date(), now.astimezone(zone).date(),
                                    zone.key),
            "phases": _rates(sorted(read["phases"], key=lambda r: r["group"]), "Phase {}"),
            "channels": _rates(read["channels"], "{}"),
            "holdout": _holdout(lift),
            **{f"ab_{n}": _ab_test(test) for n, test in enumerate(ab_tests)},
        },
        "ab_tests": ab_tests, "holdout": lift, "latest": read["latest"], "revenue": read["revenue"],
    }


def revenue_by_currency(account_id: int, period: dict[str, Any]) -> list[tuple[str | None, Decimal]]:
    """Revenue recovered in the period per currency (the dropoff's), never summed across currencies."""
    if metrics.ROLLUPS:
        totals = rollups.revenue(account_id, period, metrics.dimensions(account_id, period))
        # In the order the database sorts them: no currency first on SQLite, last on PostgreSQL.
        last = db.session().get_bind().dialect.name == "postgresql"
        return [(currency, total) for currency, total in sorted(
            totals.items(), key=lambda item: ((item[0] is None) == last, item[0] or "")) if total]
    rows = db.session().execute(
        select(Dropoff.currency, func.sum(Dropoff.revenue)).where(*metrics.scope(account_id, period),
                                                                   Dropoff.revenue.is_not(None))
        .group_by(Dropoff.currency).order_by(Dropoff.currency))
    return [(currency, Decimal(str(total))) for currency, total in rows if total]


def latest(account_id: int) -> list[dict[str, Any]]:
    """The newest dropoffs, with whom they are about."""
    rows = db.session().execute(
        select(Dropoff.id, Dropoff.detected_at, Dropoff.scenario, Dropoff.stage, Dropoff.status, Dropoff.value_at_risk,
               Dropoff.currency, Dropoff.revenue, Dropoff.test, Dropoff.contact_id, Contact.email, Contact.external_id,
               Contact.first_name, Contact.last_name).join(Contact, Contact.id == Dropoff.contact_id)
        .where(Dropoff.account_id == account_id, Dropoff.status != "retracted")
        .order_by(Dropoff.detected_at.desc(), Dropoff.id.desc()).limit(LATEST))
    return [{**row._asdict(), "who": " ".join(filter(None, (row.first_name, row.last_name))) or row.email
             or row.external_id or f"contact {row.id}"} for row in rows]


def _bar(name: str, x: list, y: list, colour: str, **more) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": x, "y": y, "marker": {"color": colour}, **more}


def _funnel(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not rows:
        return None
    stages = [row["group"] for row in rows]
    return {"data": [_bar(label, stages, [row[key] for row in rows], COLOURS[key]) for key, label in (
        ("dropoffs", "Dropped off"), ("enrolled", "Enrolled"), ("re_engaged", "Re-engaged"),
        ("recovered", "Recovered"))], "layout": {**LAYOUT, "barmode": "group"}}


def daily(account_id: int, period: dict[str, Any], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Dropoffs, recoveries and revenue by the day in `zone` they were detected on.

    The database counts per quarter hour of UTC (every time zone's offset is a whole number of quarter
    hours), and each quarter is added to its local day here: a period costs at most 96 rows a day.
    """
    hour: Any
    quarter: Any
    if db.session().get_bind().dialect.name == "postgresql":
        utc = func.timezone("UTC", Dropoff.detected_at)
        hour, quarter = func.to_char(utc, "YYYY-MM-DD HH24"), func.floor(func.extract("minute", utc) / 15)
    else:
        hour = func.strftime("%Y-%m-%d %H", Dropoff.detected_at)
        # Whole quarters: `/` would divide as reals, leaving a group per minute.
        quarter = func.cast(func.strftime("%M", Dropoff.detected_at), Integer) // 15
    days: dict[str, dict[str, Any]] = {}
    for bucket, part, currency, count, recovered, revenue in db.session().execute(
            select(hour, quarter, Dropoff.currency, func.count(), func.count(Dropoff.recovered_at),
                   func.sum(Dropoff.revenue))
            .where(*metrics.scope(account_id, period)).group_by(hour, quarter, Dropoff.currency)):
        moment = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=UTC) + timedelta(minutes=15 * int(part))
        day = days.setdefault(moment.astimezone(zone).date().isoformat(),
                              {"dropoffs": 0, "recovered": 0, "revenue": {}})
        day["dropoffs"] += count
        day["recovered"] += recovered
        if revenue is not None:  # kept per currency: amounts in different currencies are never added up
            day["revenue"][currency] = day["revenue"].get(currency, Decimal(0)) + Decimal(str(revenue))
    return [{"group": key, **figures} for key, figures in sorted(days.items())]


def _over_time(rows: list[dict[str, Any]], first: date, last: date, zone: str) -> dict[str, Any] | None:
    if not rows:
        return None
    by_day = {row["group"]: row for row in rows}
    days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]

    def series(key: str) -> list:
        return [by_day[day][key] if day in by_day else 0 for day in days]

    currencies = sorted({currency or "" for row in rows for currency in row["revenue"]})
    # One revenue line per currency (unlabelled amounts on their own), on the right-hand axis.
    revenue = [{"type": "scatter", "mode": "lines+markers", "yaxis": "y2",
                "name": f"Revenue recovered ({currency})" if currency else "Revenue recovered (no currency)",
                "x": days, "y": [by_day[day]["revenue"].get(currency or None, 0) if day in by_day else 0
                                 for day in days],
                "line": {"color": COLOURS["revenue"], "dash": ("dot", "dash", "dashdot", "longdash")[n % 4]}}
               for n, currency in enumerate(currencies)]
    # A day's label centred on the right edge would be drawn over the revenue axis' ticks: it is left out.
    days_axis = _axis(title={"text": f"day detected ({zone})"}, ticklabeloverflow="hide past domain")
    return {"data": [
        _bar("Dropped off", days, series("dropoffs"), COLOURS["dropoffs"]),
        _bar("Recovered", days, series("recovered"), COLOURS["recovered"]),
        *revenue,
    ], "layout": {**LAYOUT, "barmode": "group", "xaxis": days_axis,
                  "yaxis2": _axis(overlaying="y", side="right", showgrid=False, title={"text": "revenue"},
                                  rangemode="tozero")}}


def _rates(rows: list[dict[str, Any]], label: str) -> dict[str, Any] | None:
    rows = [row for row in rows if row["messages_sent"]]
    if not rows:
        return None
    names = [label.format(row["group"]) for row in rows]
    sent = [row["messages_sent"] for row in rows]
    return {"data": [
        _bar("Opened", names, [row["opened"] / n for row, n in zip(rows, sent, strict=True)], COLOURS["enrolled"]),
        _bar("Clicked", names, [row["clicked"] / n for row, n in zip(rows, sent, strict=True)], COLOURS["re_engaged"]),
        _bar("Recovered (credited)", names, [row["recovery_rate"] or 0 for row in rows], COLOURS["recovered"],
             customdata=[row["cost_per_recovery"] for row in rows],
             hovertemplate="%{y:.1%} recovered; cost per recovery %{customdata}<extra></extra>"),
    ], "layout": {**LAYOUT, "barmode": "group", "yaxis": _axis(tickformat=".0%")}}


def _ab_test(test: dict[str, Any]) -> dict[str, Any]:
    variants = [f"Variant {v['variant']}" for v in test["variants"]]
    return {"data": [
        _bar("Click rate", variants, [v["click_rate"] or 0 for v in test["variants"]], COLOURS["clicked"]),
        _bar("Recovery rate", variants, [v["recovery_rate"] or 0 for v in test["variants"]], COLOURS["recovered"]),
    ], "layout": {**LAYOUT, "barmode": "group", "yaxis": _axis(tickformat=".0%")}}  # titled by the page


def _holdout(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    results = [r for r in results if r["held_out"]["enrolled"]]
    if not results:
        return None
    flows = [r["flow_name"] for r in results]
    return {"data": [
        _bar("Held out", flows, [r["held_out"]["recovery_rate"] for r in results], COLOURS["held_out"]),
        _bar("Treated", flows, [r["treated"]["recovery_rate"] or 0 for r in results], COLOURS["treated"]),
    ], "layout": {**LAYOUT, "barmode": "group", "yaxis": _axis(tickformat=".0%", title={"text": "recovery rate"})}}
