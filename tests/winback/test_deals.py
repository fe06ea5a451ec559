"""Closed-lost win-back through HTTP: the seed's worked example, every category, score and escalation boundary."""

from datetime import UTC, datetime, timedelta

import pytest

from reengage.jobs import clock
from reengage.platform import db
from tests.support.deals import LOST, SARAH, outcome, post_deal, signal


def test_the_seeds_worked_example_is_high_priority_immediate_with_ae_and_se_and_a_draft_naming_the_change(
        app, client, acme):
    deal = post_deal(client, acme, loss_reason="Feature gap (real-time analytics capabilities)", owner="Jordan Lee",
                     amount=180000, currency="USD", industry="Analytics", contacts=[SARAH])
    assert deal["category"] == "feature_gap" and deal["category_source"] == "inferred" and deal["confidence"] >= 0.9
    assert deal["priority"] == "low" and deal["timing"] == "long" and deal["ready_at"] is None
    released = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)
    with db.as_of(released):
        update = client.post("/v1/product-updates", json={
            "name": "Streaming Analytics", "summary": "sub-second dashboards on live event streams",
            "gaps": ["real-time analytics"]}, headers=acme.headers)
    assert update.status_code == 201 and update.json["matched_deals"] == 1
    signal(client, acme, deal["id"], "funding", "your $50M Series B", datetime(2026, 6, 10, tzinfo=UTC))
    deal = signal(client, acme, deal["id"], "decision_maker_change", "your promotion to VP of Data",
                  datetime(2026, 6, 20, tzinfo=UTC))
    assert deal["score"] == 5 and deal["priority"] == "high"
    assert [r["signal"] for r in deal["score_reasons"]] == ["funding", "decision_maker_change", "product_update"]
    assert deal["timing"] == "immediate" and deal["timing_reason"] == "a product update closed the gap"
    assert deal["window_start"] == released.isoformat() and deal["window_end"].startswith("2026-07-20")
    # The window opened with the update (medium priority then): ready once, at that moment.
    assert deal["ready_at"] == released.isoformat()
    recommendation = deal["recommendation"]
    assert recommendation["messenger"] == "ae_with_se" and recommendation["channel"] == "email"
    assert recommendation["content"][0] == "The release notes of Streaming Analytics"
    draft = deal["draft"]
    assert draft["subject"] == "Streaming Analytics for DataTech" and draft["to"] == "sarah@datatech.example"
    parts = {part["part"]: part["text"] for part in draft["parts"]}
    assert list(parts) == ["acknowledgement", "what_changed", "value_now", "social_proof", "soft_ask", "easy_out"]
    assert parts["acknowledgement"].startswith(
        "Congratulations on your $50M Series B and your promotion to VP of Data!")
    assert "March 2026" in parts["acknowledgement"] and "real time analytics" in draft["text"]
    assert "Since then we have launched Streaming Analytics: sub-second dashboards" in parts["what_changed"]
    assert draft["text"].startswith("Hi Sarah,") and draft["text"].endswith("Best,\nJordan Lee")
    [ready] = client.get("/v1/triggers/winback.ready", headers=acme.headers).json
    assert ready["id"] == deal["id"] and ready["messenger"] == "ae_with_se"
    assert ready["contact"]["first_name"] == "Sarah"


@pytest.mark.parametrize(("reason", "category"), [
    ("Budget was cut for the year", "price"),
    ("Missing SSO functionality", "feature_gap"),
    ("Not now - maybe next quarter", "timing"),
    ("Went with a competitor", "competition"),
    ("Our champion left the company", "internal_champion"),
    ("Failed the security review of the integration", "technical_fit"),
    ("They did not trust our references", "trust"),
])
def test_each_category_is_read_from_the_loss_reason(client, acme, reason, category):
    deal = post_deal(client, acme, loss_reason=reason)
    assert deal["category"] == category and deal["category_source"] == "inferred"


def test_a_stated_category_wins_over_the_words_and_notes_add_secondary_factors(client, acme):
    deal = post_deal(client, acme, loss_reason="Price too high", notes="They also chose a rival; no SSO feature",
                     competitor="StreamCo")
    assert deal["category"] == "price" and deal["secondary"] == ["competition", "feature_gap"]
    assert 0.5 < deal["confidence"] < 0.95
    stated = post_deal(client, acme, category="timing")
    assert stated["category"] == "timing" and stated["category_source"] == "stated" and stated["confidence"] == 1.0
    assert post_deal(client, acme, external_id="D-2", loss_reason="no idea")["category"] is None


def test_a_corrected_category_is_kept_through_later_updates_until_removed(client, acme):
    deal = post_deal(client, acme, loss_reason="Price too high")
    corrected = client.patch(f"/v1/deals/{deal['id']}", json={"category": "competition", "note": "they chose X"},
                             headers=acme.headers)
    assert corrected.status_code == 200 and corrected.json["category"] == "competition"
    assert corrected.json["correction"]["note"] == "they chose X" and corrected.json["timing"] == "medium"
    again = post_deal(client, acme, loss_reason="Budget cut", category="price")
    assert again["category"] == "competition" and again["category_source"] == "corrected"
    reverted = client.patch(f"/v1/deals/{deal['id']}", json={"category": None}, headers=acme.headers).json
    assert reverted["category"] == "price" and reverted["category_source"] == "stated"
    wrong = client.patch(f"/v1/deals/{deal['id']}", json={"category": "luck"}, headers=acme.headers)
    assert wrong.status_code == 422 and wrong.json["error"]["details"]["fields"][0]["field"] == "category"


@pytest.mark.parametrize(("kinds", "points", "priority"), [
    (["relationship_warmth"], 1, "low"),
    (["funding"], 2, "medium"),
    (["funding", "budget_cycle"], 3, "medium"),
    (["funding", "budget_cycle", "competitor_trouble"], 4, "high"),
    (["funding", "decision_maker_change", "product_update", "competitor_trouble", "budget_cycle",
      "relationship_warmth"], 8, "high"),
])
def test_the_readiness_score_weighs_signals_as_the_seed_does(client, acme, kinds, points, priority):
    deal = post_deal(client, acme, loss_reason="Went with a competitor")
    for number, kind in enumerate(kinds):
        deal = signal(client, acme, deal["id"], kind, f"signal {number}", LOST + timedelta(days=10 + number))
    assert (deal["score"], deal["priority"]) == (points, priority)
    # A kind counts once: a second funding signal adds nothing.
    again = signal(client, acme, deal["id"], kinds[0], "more of the same", LOST + timedelta(days=40))
    assert again["score"] == points


def test_signals_before_the_loss_are_refused_and_a_removed_signal_rescores(client, acme):
    deal = post_deal(client, acme, loss_reason="Price")
    early = client.post(f"/v1/deals/{deal['id']}/signals", json={
        "kind": "funding", "summary": "old news", "occurred_at": (LOST - timedelta(days=1)).isoformat()},
        headers=acme.headers)
    assert early.status_code == 422 and early.json["error"]["details"]["fields"][0]["field"] == "occurred_at"
    scored = signal(client, acme, deal["id"], "funding", "Series C", LOST + timedelta(days=5), id="crm-1")
    assert signal(client, acme, deal["id"], "funding", "Series C", LOST + timedelta(days=5), id="crm-1")["signals"] \
        == scored["signals"]
    funding = next(s for s in scored["signals"] if s["summary"] == "Series C")
    removed = client.delete(f"/v1/deals/{deal['id']}/signals/{funding['id']}", headers=acme.headers)
    assert removed.status_code == 200 and removed.json["score"] == 0
    assert client.delete(f"/v1/deals/{deal['id']}/signals/{funding['id']}", headers=acme.headers).status_code == 404


@pytest.mark.parametrize(("reason", "kinds", "timing", "months"), [
    ("Price too high", ["budget_cycle"], "immediate", (0, 3)),
    ("Price too high", [], "long", (6, 12)),
    ("Not the right time", [], "medium", (3, 6)),
    ("Went with a competitor", [], "medium", (3, 6)),
    ("Technical fit: no on-premise option", [], "medium", (3, 6)),
    ("Our champion left the company", ["decision_maker_change"], "immediate", (0, 3)),
    ("Trust issues after the outage", ["competitor_trouble"], "medium", (3, 6)),
])
def test_timing_follows_the_loss_reason_and_the_signals(client, acme, reason, kinds, timing, months):
    deal = post_deal(client, acme, loss_reason=reason)
    anchor = LOST
    for kind in kinds:
        anchor = LOST + timedelta(days=20)
        deal = signal(client, acme, deal["id"], kind, kind, anchor)
    if timing != "immediate":
        anchor = LOST
    assert deal["timing"] == timing
    start, end = (datetime.fromisoformat(deal[name]) for name in ("window_start", "window_end"))
    assert (start.year - anchor.year) * 12 + start.month - anchor.month == months[0] and start.day == anchor.day
    assert (end.year - anchor.year) * 12 + end.month - anchor.month == months[1]


@pytest.mark.parametrize(("arr", "escalated"), [(500000, False), (500000.01, True)])
def test_deals_above_the_arr_threshold_get_an_executive(client, acme, arr, escalated):
    deal = post_deal(client, acme, loss_reason="Price", arr=arr, amount=10)
    kinds = [e["kind"] for e in deal["escalations"]]
    assert (kinds == ["executive"]) is escalated
    assert (deal["recommendation"]["messenger"] == "executive") is escalated
    if escalated:
        assert deal["escalations"][0]["reason"] == "ARR potential $500,000.01 is above $500,000.00"


def test_the_amount_stands_in_for_arr_and_the_threshold_is_the_accounts(client, acme):
    client.patch("/v1/settings", json={"winback": {"executive_arr_threshold": 100000}}, headers=acme.headers)
    deal = post_deal(client, acme, loss_reason="Price", amount=150000)
    assert [e["kind"] for e in deal["escalations"]] == ["executive"]
    assert client.get("/v1/settings", headers=acme.headers).json["winback"]["failed_attempts_for_review"] == 2


def test_repeated_failed_attempts_go_to_strategy_review_once(app, client, acme):
    deal = post_deal(client, acme, loss_reason="Went with a competitor")
    first = outcome(client, acme, deal["id"], "no_response", LOST + timedelta(days=100))
    assert first["failed_attempts"] == 1 and first["escalations"] == [] and first["status"] == "contacted"
    second = outcome(client, acme, deal["id"], "declined", LOST + timedelta(days=130))
    assert second["failed_attempts"] == 2 and [e["kind"] for e in second["escalations"]] == ["strategy_review"]
    third = outcome(client, acme, deal["id"], "no_response", LOST + timedelta(days=160))
    assert len(third["escalations"]) == 1
    [item] = client.get("/v1/triggers/escalation.raised?kind=strategy_review", headers=acme.headers).json
    assert item["deal"]["id"] == deal["id"] and item["reason"] == "2 win-back attempts failed"


def test_an_outcome_sent_again_with_its_id_is_recorded_once(client, acme):
    deal = post_deal(client, acme, loss_reason="Price")
    for _ in range(2):
        deal = outcome(client, acme, deal["id"], "no_response", LOST + timedelta(days=100), id="crm-call-1")
    assert len(deal["outcomes"]) == 1 and deal["failed_attempts"] == 1


def test_a_product_update_closes_only_gaps_of_deals_lost_before_it(client, acme):
    released = LOST + timedelta(days=30)
    before = post_deal(client, acme, external_id="before", loss_reason="Missing SSO", gaps=["sso"])
    with db.as_of(released):
        update = client.post("/v1/product-updates", json={"name": "SSO", "gaps": ["sso"]}, headers=acme.headers)
    assert update.json["matched_deals"] == 1
    after = post_deal(client, acme, released + timedelta(days=1), external_id="after", loss_reason="Missing SSO")
    assert after["signals"] == [] and after["score"] == 0
    # A deal recorded later but lost before the release is matched when it arrives, and scored once for it.
    late = post_deal(client, acme, released, external_id="late", lost_at=(LOST + timedelta(days=10)).isoformat(),
                     loss_reason="We lacked SSO")
    assert [s["kind"] for s in late["signals"]] == ["product_update"] and late["score"] == 2
    assert client.get(f"/v1/deals/{before['id']}", headers=acme.headers).json["score"] == 2


def test_failed_attempts_for_review_is_configurable(client, acme):
    client.patch("/v1/settings", json={"winback": {"failed_attempts_for_review": 3}}, headers=acme.headers)
    deal = post_deal(client, acme, loss_reason="Price")
    for days in (100, 120):
        deal = outcome(client, acme, deal["id"], "no_response", LOST + timedelta(days=days))
    assert deal["escalations"] == []
    deal = outcome(client, acme, deal["id"], "no_response", LOST + timedelta(days=140))
    assert [e["kind"] for e in deal["escalations"]] == ["strategy_review"]


def test_competitor_trouble_flags_the_deal(client, acme):
    deal = post_deal(client, acme, loss_reason="Went with StreamCo", competitor="StreamCo")
    deal = signal(client, acme, deal["id"], "competitor_trouble", "StreamCo had a week-long outage",
                  LOST + timedelta(days=50))
    [flag] = deal["escalations"]
    assert flag["kind"] == "competitor_trouble" and flag["reason"] == "StreamCo: StreamCo had a week-long outage"
    assert "A switching offer for teams leaving StreamCo" in deal["recommendation"]["content"]


def test_a_window_opening_later_makes_the_deal_ready_on_the_clock_and_notifies_hooks(app, client, acme, receiver):
    hook = client.post("/v1/hooks", json={"target_url": f"{receiver.url}/ready", "event": "winback.ready"},
                       headers=acme.headers).json
    deal = post_deal(client, acme, loss_reason="Went with a competitor")
    deal = signal(client, acme, deal["id"], "funding", "raised a round", LOST + timedelta(days=10))
    assert deal["priority"] == "medium" and deal["ready_at"] is None
    opens = datetime.fromisoformat(deal["window_start"])
    clock.tick(app, at=opens - timedelta(minutes=1))
    assert receiver.items == []
    clock.tick(app, at=opens + timedelta(seconds=1))
    [posted] = receiver.items
    assert posted["id"] == deal["id"] and posted["priority"] == "medium"
    shown = client.get(f"/v1/deals/{deal['id']}", headers=acme.headers).json
    assert shown["ready_at"] == (opens + timedelta(seconds=1)).isoformat() and shown["push_status"] == "skipped"
    clock.tick(app, at=opens + timedelta(minutes=1))
    assert len(receiver.items) == 1
    assert client.get(f"/v1/hooks/{hook['id']}/deliveries", headers=acme.headers).json[0]["status"] == "delivered"


def test_outcomes_move_the_funnel_and_metrics_count_it_exactly(client, acme):
    lost = {f"D-{n}": post_deal(client, acme, external_id=f"D-{n}", loss_reason=reason)
            for n, reason in enumerate(["Price", "Price", "Went with a rival", "Went with a rival", "Timing"])}
    ids = {key: deal["id"] for key, deal in lost.items()}
    day = LOST + timedelta(days=100)
    for key in ("D-0", "D-1", "D-2", "D-3"):
        outcome(client, acme, ids[key], "contacted", day)
    outcome(client, acme, ids["D-0"], "replied", day + timedelta(days=4))
    outcome(client, acme, ids["D-1"], "meeting", day + timedelta(days=10))  # a meeting was a reply too
    outcome(client, acme, ids["D-2"], "won", day + timedelta(days=40))
    figures = client.get("/v1/winback/metrics", headers=acme.headers).json["overall"]
    assert {k: figures[k] for k in ("deals", "contacted", "replied", "meetings", "opportunities", "won")} == {
        "deals": 5, "contacted": 4, "replied": 3, "meetings": 2, "opportunities": 1, "won": 1}
    assert figures["re_engagement_rate"] == 0.75 and figures["meeting_conversion"] == round(2 / 3, 4)
    assert figures["opportunity_creation"] == 0.5 and figures["win_rate"] == 1.0
    assert figures["time_to_re_engagement_days"] == round((104 + 110 + 140) / 3, 2)
    grouped = client.get("/v1/winback/metrics?group_by=category", headers=acme.headers).json["groups"]
    by = {g["group"]: g for g in grouped}
    assert by["price"]["replied"] == 2 and by["competition"]["won"] == 1 and by["timing"]["re_engagement_rate"] is None
    narrowed = client.get("/v1/winback/metrics?category=competition", headers=acme.headers).json["overall"]
    assert narrowed["deals"] == 2 and narrowed["win_rate"] == 1.0
    assert client.get("/v1/winback/metrics?group_by=color", headers=acme.headers).status_code == 422


def test_bad_inputs_are_refused_naming_the_field(client, acme):
    assert client.post("/v1/deals", json={"name": "x"}, headers=acme.headers).json["error"]["details"]["fields"][0][
        "field"] == "external_id"
    deal = post_deal(client, acme, loss_reason="Price")
    early = client.post(f"/v1/deals/{deal['id']}/outcomes", json={
        "type": "replied", "occurred_at": (LOST - timedelta(days=1)).isoformat()}, headers=acme.headers)
    assert early.status_code == 422 and early.json["error"]["details"]["fields"][0]["field"] == "occurred_at"
    for body, field in (({"kind": "luck", "summary": "x"}, "kind"), ({"kind": "funding"}, "summary")):
        response = client.post(f"/v1/deals/{deal['id']}/signals", json=body, headers=acme.headers)
        assert response.status_code == 422 and response.json["error"]["details"]["fields"][0]["field"] == field
    bad_update = client.post("/v1/product-updates", json={"name": "x", "gaps": []}, headers=acme.headers)
    assert bad_update.status_code == 422 and bad_update.json["error"]["details"]["fields"][0]["field"] == "gaps"
    assert client.get("/v1/deals/999999", headers=acme.headers).status_code == 404


def test_the_draft_renders_through_the_render_action_and_cites_a_customer_story(client, acme):
    client.patch("/v1/settings", json={"winback": {"customer_stories": [
        {"customer": "Initech", "industry": "Retail", "outcome": "halved its reporting time"},
        {"customer": "Acme Corp", "industry": "Analytics", "outcome": "now sees its streams in under a second"}]}},
        headers=acme.headers)
    deal = post_deal(client, acme, loss_reason="Missing real-time dashboards", industry="Analytics",
                     contacts=[SARAH])
    rendered = client.post("/v1/actions/render", json={"deal_id": deal["id"]}, headers=acme.headers)
    assert rendered.status_code == 200, rendered.json
    assert rendered.json["subject"] == deal["draft"]["subject"] == "What has changed since March 2026"
    assert "Acme Corp, also in Analytics, now sees its streams in under a second." in rendered.json["text"]
    assert rendered.json["html"].startswith("<div") and rendered.json["step"] == "winback.draft"
    mixed = client.post("/v1/actions/render", json={"deal_id": deal["id"], "flow": "sales"}, headers=acme.headers)
    assert mixed.status_code == 422 and mixed.json["error"]["details"]["fields"][0]["field"] == "flow"
    assert client.post("/v1/actions/render", json={}, headers=acme.headers).json["error"]["details"]["fields"][0][
        "field"] == "flow"


def test_the_record_deal_action_takes_one_contact_as_zapier_sends_it(client, acme):
    response = client.post("/v1/actions/record-deal", json={
        "external_id": "Z-1", "name": "Zap deal", "loss_reason": "Budget", "contact": {"email": "buyer@example.com"}},
        headers=acme.headers)
    assert response.status_code == 200, response.json
    assert response.json["category"] == "price" and response.json["draft"]["to"] == "buyer@example.com"
    bad = client.post("/v1/actions/record-deal", json={"external_id": "Z-2", "contact": {}}, headers=acme.headers)
    assert bad.status_code == 422 and bad.json["error"]["details"]["fields"][0]["field"].startswith("contact")


def test_another_accounts_deals_are_not_found(client, acme, globex):
    deal = post_deal(client, acme, loss_reason="Price", arr=900000)
    theirs = post_deal(client, globex, loss_reason="Timing")  # the same external id in another account
    assert theirs["id"] != deal["id"] and theirs["category"] == "timing"
    assert client.get(f"/v1/deals/{deal['id']}", headers=acme.headers).json["category"] == "price"
    with db.as_of(LOST):
        client.post("/v1/product-updates", json={"name": "SSO", "gaps": ["sso"]}, headers=acme.headers)
    path = f"/v1/deals/{deal['id']}"
    assert client.get(path, headers=globex.headers).status_code == 404
    assert [d["id"] for d in client.get("/v1/deals", headers=globex.headers).json] == [theirs["id"]]
    assert client.patch(path, json={"category": "price"}, headers=globex.headers).status_code == 404
    assert client.post(f"{path}/signals", json={"kind": "funding", "summary": "x"},
                       headers=globex.headers).status_code == 404
    assert client.delete(f"{path}/signals/1", headers=globex.headers).status_code == 404
    assert client.post(f"{path}/outcomes", json={"type": "replied"}, headers=globex.headers).status_code == 404
    assert client.get("/v1/product-updates", headers=globex.headers).json == []
    assert client.get("/v1/winback/metrics", headers=globex.headers).json["overall"]["deals"] == 1
    assert client.post("/v1/actions/render", json={"deal_id": deal["id"]}, headers=globex.headers).status_code == 404
    signal(client, acme, deal["id"], "funding", "Series B", LOST + timedelta(days=1))
    signal(client, acme, deal["id"], "budget_cycle", "new fiscal year", LOST + timedelta(days=2))
    for trigger in ("winback.ready", "escalation.raised"):
        assert len(client.get(f"/v1/triggers/{trigger}", headers=acme.headers).json) == 1
        assert client.get(f"/v1/triggers/{trigger}", headers=globex.headers).json == []
