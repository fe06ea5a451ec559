"""A/B tests and holdout lift on histories built by hand, against statistics worked out independently."""

import csv
import io
import math
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command

from reengage.platform import db
from tests.support import event
from tests.support.journeys import abandon, setup_sales, tick
from tests.support.results import chi_square_p, click, convert

PEOPLE = 16


@pytest.fixture
def split(app, client, acme):
    """Sixteen abandoned applications; step 1.pick-up goes out as A or B (by the stable hash)."""
    setup_sales(client, acme)
    client.patch("/v1/settings", json={"metrics": {"attribution_window": "P7D"}}, headers=acme.headers)
    people = {}
    for n in range(PEOPLE):
        name = f"p{n}"
        enrollment = abandon(app, client, acme, {"external_id": name, "email": f"{name}@example.com"}, key=name)
        people[name] = next(m for m in enrollment["messages"] if m["step"] == "1.pick-up")
    for message in people.values():
        tick(app, datetime.fromisoformat(message["due_at"]))
    for name, message in people.items():
        shown = client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json
        people[name] = {**message, "sent_at": datetime.fromisoformat(shown["sent_at"])}
    return people


def test_each_variant_is_counted_and_tested_against_the_control(client, acme, split):
    a = sorted(name for name, m in split.items() if m["variant"] == "A")
    b = sorted(name for name, m in split.items() if m["variant"] == "B")
    assert len(a) >= 4 and len(b) >= 4, "the stable hash splits sixteen both ways"
    # Chosen by hand: every B but one clicks and converts within a day; one A clicks, one A converts
    # within the window, and one A converts a second after the window closes (not credited).
    for name in b[:-1]:
        click(client, acme, name, split[name])
        convert(client, acme, name, split[name]["sent_at"] + timedelta(days=1), 20)
    click(client, acme, a[0], split[a[0]])
    convert(client, acme, a[0], split[a[0]]["sent_at"] + timedelta(days=7), 50)
    convert(client, acme, a[1], split[a[1]]["sent_at"] + timedelta(days=7, seconds=1), 70)

    response = client.get("/v1/metrics/ab-tests", headers=acme.headers)
    assert response.status_code == 200, response.json
    [test] = response.json
    assert (test["flow"], test["step"], test["phase"], test["control"]) == ("sales", "1.pick-up", 1, "A")
    control, challenger = test["variants"]
    assert (control["variant"], control["sent"], control["clicked"], control["recovered"], control["revenue"]) == (
        "A", len(a), 1, 1, 50.0)
    assert (challenger["variant"], challenger["sent"], challenger["clicked"], challenger["recovered"]) == (
        "B", len(b), len(b) - 1, len(b) - 1)
    assert challenger["revenue"] == 20.0 * (len(b) - 1)
    assert challenger["revenue_by_currency"] == [{"currency": None, "revenue": 20.0 * (len(b) - 1)}]
    assert control["recovery_rate"] == round(1 / len(a), 4) and challenger["click_rate"] == round(
        (len(b) - 1) / len(b), 4)
    assert control["recovery_test"] is None
    p_value = chi_square_p(1, len(a), len(b) - 1, len(b))
    assert challenger["recovery_test"]["p_value"] == pytest.approx(p_value, rel=1e-9)
    assert challenger["click_test"]["p_value"] == pytest.approx(p_value, rel=1e-9)
    confidence = math.floor((1 - p_value) * 1000) / 10
    assert challenger["recovery_test"]["verdict"] == f"B is better with {confidence:g}% confidence"
    assert test["verdict"] == challenger["recovery_test"]["verdict"] and p_value < 0.05


def test_too_little_to_tell_says_so(client, acme, split):
    [test] = client.get("/v1/metrics/ab-tests", headers=acme.headers).json
    assert test["verdict"] == "no difference yet"
    assert all((v["recovered"] == 0 and v["recovery_test"] is None) or v["recovery_test"]["p_value"] is None
               for v in test["variants"])
    assert client.get("/v1/metrics/ab-tests?flow=onboarding", headers=acme.headers).json == []
    late = split["p0"]["sent_at"] + timedelta(days=30)
    assert client.get(f"/v1/metrics/ab-tests?from={late.isoformat()}".replace("+", "%2B"),
                      headers=acme.headers).json == []


def test_lift_over_the_holdout_group(app, client, acme):
    setup_sales(client, acme, holdout_percent=50)
    enrolled = {f"h{n}": abandon(app, client, acme, {"external_id": f"h{n}", "email": f"h{n}@example.com"},
                                 key=f"h{n}") for n in range(12)}
    held = sorted(name for name, e in enrolled.items() if e["holdout"])
    treated = sorted(name for name, e in enrolled.items() if not e["holdout"])
    assert len(held) >= 3 and len(treated) >= 4
    # Chosen by hand: one held-out contact comes back on their own (40); three treated ones come back (100 each).
    at = datetime.fromisoformat(enrolled[held[0]]["started_at"]) + timedelta(days=1)
    convert(client, acme, held[0], at, 40)
    for name in treated[:3]:
        convert(client, acme, name, at, 100)

    response = client.get("/v1/metrics/holdout", headers=acme.headers)
    assert response.status_code == 200, response.json
    [result] = response.json
    assert (result["flow"], result["holdout_percent"]) == ("sales", 50)
    assert result["treated"] == {"enrolled": len(treated), "recovered": 3, "recovery_rate": 3 / len(treated),
                                 "revenue": 300.0}
    assert result["held_out"] == {"enrolled": len(held), "recovered": 1, "recovery_rate": 1 / len(held),
                                  "revenue": 40.0}
    t, h = 3 / len(treated), 1 / len(held)
    margin = 1.959963984540054 * math.sqrt(t * (1 - t) / len(treated) + h * (1 - h) / len(held))
    assert result["lift"]["absolute"] == pytest.approx(t - h)
    assert result["lift"]["relative"] == pytest.approx((t - h) / h)
    assert (result["lift"]["low"], result["lift"]["high"]) == (pytest.approx(t - h - margin),
                                                               pytest.approx(t - h + margin))
    assert result["p_value"] == pytest.approx(chi_square_p(1, len(held), 3, len(treated)), rel=1e-9)
    assert result["incremental_revenue"] == round(300 - 40 * len(treated) / len(held), 2)
    assert result["verdict"] == "no difference yet"


def test_a_flow_without_a_holdout_has_no_lift(app, client, globex):
    setup_sales(client, globex)
    abandon(app, client, globex, {"external_id": "solo", "email": "solo@example.com"}, key="solo")
    [result] = client.get("/v1/metrics/holdout", headers=globex.headers).json
    assert result["held_out"]["enrolled"] == 0 and result["lift"]["absolute"] is None
    assert result["incremental_revenue"] is None and result["verdict"] == "no difference yet"


def test_metrics_as_csv_match_the_json(app, client, acme, split):
    convert(client, acme, "p0", split["p0"]["sent_at"] + timedelta(days=1), 25)
    response = client.get("/v1/metrics.csv?group_by=variant", headers=acme.headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    json_rows = client.get("/v1/metrics?group_by=variant", headers=acme.headers).json
    assert [line["group"] for line in lines] == [row["group"] for row in json_rows]
    for line, row in zip(lines, json_rows, strict=True):
        assert line == {k: "" if v is None else str(v) for k, v in row.items()}
    assert list(lines[0])[:3] == ["group", "dropoffs", "enrolled"]
    bad = client.get("/v1/metrics.csv?phase=9", headers=acme.headers)
    assert bad.status_code == 422 and bad.json["error"]["details"]["fields"][0]["field"] == "phase"
    assert client.get("/v1/metrics.csv").status_code == 401


def test_another_accounts_experiments_are_not_shown(client, acme, globex, split):
    assert len(client.get("/v1/metrics/ab-tests", headers=acme.headers).json) == 1
    assert client.get("/v1/metrics/ab-tests", headers=globex.headers).json == []
    assert client.get("/v1/metrics/holdout", headers=globex.headers).json == []
    [line] = csv.DictReader(io.StringIO(client.get("/v1/metrics.csv", headers=globex.headers).get_data(as_text=True)))
    assert (line["dropoffs"], line["messages_sent"], line["recovery_rate"]) == ("0", "0", "")


def test_the_dropoff_tallies_agree_with_the_messages(client, acme, split):
    """Ungrouped metrics read each dropoff's tally; filtered by channel they count the messages themselves."""
    client.patch("/v1/settings", json={"metrics": {"costs": {"email": 0.25}}}, headers=acme.headers)
    for name in ("p1", "p2", "p3"):
        click(client, acme, name, split[name])
    convert(client, acme, "p1", split["p1"]["sent_at"] + timedelta(hours=3), 10)
    click(client, acme, "p1", split["p1"])  # the same click again (a replay): stored once, counted once
    second = event("click-p1-again", type="email.clicked", contact={"external_id": "p1"},
                   occurred_at=(split["p1"]["sent_at"] + timedelta(hours=2)).isoformat(),
                   properties={"message_id": split["p1"]["id"]})
    assert client.post("/v1/events", json=second, headers=acme.headers).status_code == 200  # a second click
    [tallied] = client.get("/v1/metrics", headers=acme.headers).json
    [counted] = client.get("/v1/metrics?channel=email", headers=acme.headers).json
    figures = ("messages_sent", "delivered", "opened", "clicked", "re_engaged", "cost",
               "median_time_to_first_touch_seconds")
    assert {k: tallied[k] for k in figures} == {k: counted[k] for k in figures}
    assert (tallied["messages_sent"], tallied["opened"], tallied["clicked"], tallied["re_engaged"]) == (
        PEOPLE, 3, 3, 3)
    # Costs are kept as the messages went: these went before the price was set.
    assert tallied["cost"] == 0.0


def test_upgrading_from_before_the_tallies_fills_them_in(app, client, acme, split):
    """Migration 0009 gives dropoffs from before it their tallies and credits, as sending and recovery keep them."""
    for name in ("p1", "p2"):
        click(client, acme, name, split[name])
    convert(client, acme, "p1", split["p1"]["sent_at"] + timedelta(days=2), 10)
    convert(client, acme, "p2", split["p2"]["sent_at"] + timedelta(days=8), 20)  # outside the window
    queries = ("/v1/metrics", "/v1/metrics?group_by=variant", "/v1/metrics?group_by=phase",
               "/v1/triggers/contact.recovered")
    before = {query: client.get(query, headers=acme.headers).json for query in queries}
    config = db.alembic_config(app.config["DATABASE_URL"])
    with app.app_context():
        db.engine().dispose()
    command.downgrade(config, "0008")
    command.upgrade(config, "head")
    after = {query: client.get(query, headers=acme.headers).json for query in queries}
    assert after == before
    assert before["/v1/metrics?group_by=variant"] and sum(r["recovered"] for r in before[
        "/v1/metrics?group_by=variant"]) == 1


def test_a_variants_revenue_is_kept_per_currency_never_added_up(client, acme, split):
    b = sorted(name for name, m in split.items() if m["variant"] == "B")
    for name, value, currency in ((b[0], 20, "EUR"), (b[1], 30, "USD"), (b[2], 5, "EUR")):
        convert(client, acme, name, split[name]["sent_at"] + timedelta(days=1), value, currency)

    [test] = client.get("/v1/metrics/ab-tests", headers=acme.headers).json
    challenger = next(v for v in test["variants"] if v["variant"] == "B")
    assert challenger["recovered"] == 3 and challenger["revenue"] is None
    assert challenger["revenue_by_currency"] == [{"currency": "EUR", "revenue": 25.0},
                                                 {"currency": "USD", "revenue": 30.0}]
    control = next(v for v in test["variants"] if v["variant"] == "A")
    assert (control["revenue"], control["revenue_by_currency"]) == (0.0, [])


@pytest.mark.parametrize(("gap", "window", "within"), [
    (timedelta(days=7), timedelta(days=7), True),
    (timedelta(days=7, microseconds=1), timedelta(days=7), False),
    (timedelta(seconds=-3), timedelta(days=7), True),
    (timedelta(milliseconds=500), timedelta(milliseconds=500), True),
    (timedelta(milliseconds=500, microseconds=1), timedelta(milliseconds=500), False),
])
@pytest.mark.parametrize("fraction", [0, 999_999])
def test_the_attribution_window_is_exact_to_the_microsecond(app, gap, window, within, fraction):
    """A recovery `gap` after its variant went is within `window` or not, also where taking the window off crosses a
    second (a fraction of .999999), and for a window of part of a second."""
    from sqlalchemy import literal, select

    from reengage.platform.db import UTCDateTime
    from reengage.results import messages

    went = datetime(2026, 6, 1, 9, tzinfo=UTC) + timedelta(microseconds=fraction)
    recovered = went + gap
    with app.app_context():
        answer = db.session().scalar(select(messages.at_most_before(
            literal(went, UTCDateTime), literal(recovered, UTCDateTime), window)))
    assert bool(answer) is within


def test_recoveries_are_read_through_the_recovered_dropoffs_and_sent_variants_indexes(app, acme):
    """The A/B tests look up only recovered dropoffs, and only their sent variants within the window."""
    from sqlalchemy import text

    from reengage.results import metrics, variants

    period = {"from": datetime(2026, 6, 1, tzinfo=UTC), "to": datetime(2026, 7, 1, tzinfo=UTC)}
    with app.app_context():
        statement = variants.recoveries(metrics.scope(acme.id, period), timedelta(days=7))
        connection = db.session().connection()
        sql = statement.compile(connection, compile_kwargs={"literal_binds": True})
        if connection.dialect.name == "postgresql":  # its tables are too small here for it to choose an index
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))
        else:
            plan = " ".join(row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "ix_dropoffs_account_recovered_newest" in plan and "ix_messages_variant_sent" in plan, plan
