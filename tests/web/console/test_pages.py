"""The console over HTTP: signed in through the dashboard's session, forms checked by the API's own schemas."""

import gzip
import html
import re
from datetime import timedelta

from standardwebhooks import Webhook

from reengage.jobs import clock
from reengage.platform import db
from tests.results.test_dashboard import csrf_token, sign_in


def signed_in(client, tenant):
    assert sign_in(client, tenant.key).status_code == 302
    return csrf_token(client.get("/console").get_data(as_text=True))


def test_the_console_needs_the_dashboard_session_and_returns_to_it(client, acme):
    answer = client.get("/console/flows")
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard/sign-in?next=/console/flows"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    elsewhere = client.post("/dashboard/sign-in", data={"api_key": acme.key, "csrf_token": csrf_token(page),
                                                        "next": "//evil.example/console"})
    assert elsewhere.headers["Location"] == "/dashboard"
    assert client.get("/dashboard/sign-in?next=/console/flows").headers["Location"] == "/console/flows"
    page = client.get("/console")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_every_form_needs_its_csrf_token(client, acme):
    signed_in(client, acme)
    assert client.post("/console/flows", data={"template": "sales"}).status_code == 400
    assert client.get("/console/flows").get_data(as_text=True).count("flow-list") == 0


def test_the_checklist_follows_the_account_state(client, acme):
    token = signed_in(client, acme)
    page = client.get("/console").get_data(as_text=True)
    assert re.findall(r'class="(done|todo)" data-step="(\w+)"', page) == [
        ("todo", "email"), ("todo", "flow"), ("todo", "window"), ("todo", "event")]
    assert client.post("/console/flows", data={"template": "sales", "csrf_token": token}).status_code == 302
    page = client.get("/console").get_data(as_text=True)
    assert ("done", "flow") in re.findall(r'class="(done|todo)" data-step="(\w+)"', page)


def test_a_bad_clone_is_shown_beside_its_field(client, acme):
    token = signed_in(client, acme)
    missing = client.post("/console/flows", data={"csrf_token": token})
    assert missing.status_code == 422 and 'id="template-problem"' in missing.get_data(as_text=True)
    bad_key = client.post("/console/flows", data={"csrf_token": token, "template": "sales", "key": "Not A Key"})
    text = bad_key.get_data(as_text=True)
    assert bad_key.status_code == 422 and 'id="key-problem"' in text and 'aria-invalid="true"' in text
    assert client.post("/console/flows", data={"csrf_token": token, "template": "sales"}).status_code == 302
    again = client.post("/console/flows", data={"csrf_token": token, "template": "sales"})
    assert again.status_code == 422 and "Already used" in again.get_data(as_text=True)


def test_a_step_outside_its_phase_is_refused_as_the_api_refuses_it(client, acme):
    token = signed_in(client, acme)
    flow_id = int(client.post("/console/flows", data={"template": "sales", "csrf_token": token})
                  .headers["Location"].rsplit("/", 1)[1])
    form = {"csrf_token": token, "channel": "email", "day": "5", "time": "09:00", "subject": "Hello",
            "body": "Hi {{ contact.first_name or 'there' }}", "cta_label": "Go", "cta_url": "{{ deep_link }}",
            "contact_email": "", "action": "save"}
    late = client.post(f"/console/flows/{flow_id}/steps/1/pick-up", data=form)
    assert late.status_code == 422 and "Phase 1 covers" in late.get_data(as_text=True)
    bad_time = client.post(f"/console/flows/{flow_id}/steps/1/pick-up", data={**form, "time": "25:00"})
    assert bad_time.status_code == 422 and 'id="time-problem"' in bad_time.get_data(as_text=True)
    broken = client.post(f"/console/flows/{flow_id}/steps/1/pick-up", data={**form, "day": "0", "body": "{{ oops"})
    assert broken.status_code == 422 and 'id="body-problem"' in broken.get_data(as_text=True)
    saved = client.post(f"/console/flows/{flow_id}/steps/1/pick-up", data={**form, "day": "1", "time": "08:30"})
    assert saved.status_code == 302
    flow = client.get(f"/v1/flows/{flow_id}", headers=acme.headers).json
    step = flow["phases"][0]["steps"][0]
    assert step["subject"] == "Hello" and step["variants"] and "8H30M" in step["offset"]
    assert "Day 1, 08:30" in client.get(f"/console/flows/{flow_id}").get_data(as_text=True)


def test_the_preview_renders_the_edits_without_saving_them(client, acme):
    token = signed_in(client, acme)
    flow_id = int(client.post("/console/flows", data={"template": "sales", "csrf_token": token})
                  .headers["Location"].rsplit("/", 1)[1])
    form = {"csrf_token": token, "channel": "email", "day": "0", "time": "02:00",
            "subject": "Back soon, {{ contact.first_name }}?", "body": "Hello", "cta_label": "Go",
            "cta_url": "{{ deep_link }}", "contact_email": "", "action": "preview"}
    shown = client.post(f"/console/flows/{flow_id}/steps/1/pick-up", data=form, headers={"X-Preview": "1"})
    assert shown.status_code == 200 and "Back soon, Dana?" in shown.get_data(as_text=True)
    assert "<html" not in shown.get_data(as_text=True)
    assert client.get(f"/v1/flows/{flow_id}", headers=acme.headers).json["phases"][0]["steps"][0]["subject"] != \
        form["subject"]


def test_export_then_import_copies_a_flow_into_another_account(app, client, acme, globex):
    token = signed_in(client, acme)
    flow_id = int(client.post("/console/flows", data={"template": "sales", "name": "Acme sales", "csrf_token": token})
                  .headers["Location"].rsplit("/", 1)[1])
    exported = client.get(f"/console/flows/{flow_id}/export")
    assert exported.mimetype == "application/json" and "attachment" in exported.headers["Content-Disposition"]
    client = app.test_client()
    token = signed_in(client, globex)
    assert client.get(f"/console/flows/{flow_id}").status_code == 404  # another account's flow is not found
    bad = client.post("/console/flows/import", data={"csrf_token": token, "definition": "{not json"})
    assert bad.status_code == 422 and 'id="definition-problem"' in bad.get_data(as_text=True)
    imported = client.post("/console/flows/import", data={"csrf_token": token,
                                                          "definition": exported.get_data(as_text=True)})
    assert imported.status_code == 302
    assert [f["name"] for f in client.get("/v1/flows", headers=globex.headers).json] == ["Acme sales"]


def test_settings_are_saved_through_the_api_schema(client, acme):
    token = signed_in(client, acme)
    form = {"csrf_token": token, "timezone": "Europe/Paris", "country": "FR", "skip_holidays": "on",
            "window_start": "08:00", "window_end": "07:00", "window_days": ["mon", "sat"], "cap_messages": "2",
            "cap_per": "PT24H", "cooldown": "P30D", "cost_email": "0.002"}
    bad = client.post("/console/settings", data=form)
    assert bad.status_code == 422 and 'id="send_window-end-problem"' in bad.get_data(as_text=True)
    assert client.post("/console/settings", data={**form, "timezone": "Mars/Base"}).status_code == 422
    assert client.post("/console/settings", data={**form, "window_end": "20:00"}).status_code == 302
    shown = client.get("/v1/settings", headers=acme.headers).json
    assert shown["send_window"] == {"start": "08:00", "end": "20:00", "days": ["mon", "sat"]}
    assert shown["timezone"] == "Europe/Paris" and shown["metrics"]["costs"] == {"email": 0.002}


def test_try_it_now_raises_a_test_dropoff_kept_out_of_metrics(app, client, acme):
    token = signed_in(client, acme)
    client.post("/console/flows", data={"template": "sales", "csrf_token": token})
    refused = client.post("/console/try", data={"csrf_token": token, "rule": "nope", "email": "t@example.com"})
    assert refused.status_code == 422 and 'id="rule-problem"' in refused.get_data(as_text=True)
    assert "No flow yet" not in refused.get_data(as_text=True)  # the flow cloned above is still known
    real = {"id": "e1", "type": "signup", "contact": {"email": "real@example.com"}}
    assert client.post("/v1/events", json=real, headers=acme.headers).status_code == 200
    taken = client.post("/console/try", data={"csrf_token": token, "rule": "application_abandoned",
                                              "email": "real@example.com"})
    assert taken.status_code == 422 and 'id="email-problem"' in taken.get_data(as_text=True)
    started = client.post("/console/try", data={"csrf_token": token, "rule": "application_abandoned",
                                                "email": "try@example.com", "first_name": "Tess"})
    assert started.status_code == 302 and "started=1" in started.headers["Location"]
    with app.app_context():
        clock.tick(app, at=db.utcnow() + timedelta(seconds=1))
    [dropoff] = client.get("/v1/dropoffs", headers=acme.headers).json
    assert dropoff["status"] == "enrolled" and dropoff["test"] is True
    assert client.get("/v1/metrics", headers=acme.headers).json[0]["dropoffs"] == 0
    # Polls and the contact say it is a test, so a Zap acting on real dropoffs only can filter it out.
    [polled] = client.get("/v1/triggers/dropoff.detected", headers=acme.headers).json
    assert polled["id"] == dropoff["id"] and polled["test"] is True and polled["contact"]["test"] is True
    assert client.get("/v1/contacts?email=real@example.com", headers=acme.headers).json[0]["test"] is False
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "test contact" in page and "application_abandoned" in page and 'data-message="' in page
    contact_id = dropoff["contact_id"]
    # On the dashboard: counted in no tile, listed with a test mark and a link to the contact's timeline.
    board = client.get("/dashboard").get_data(as_text=True)
    assert 'id="tile-dropoffs">0<' in board and f'href="/console/contacts/{contact_id}"' in board
    assert '<span class="badge">test</span>' in board
    assert client.post(f"/console/contacts/{contact_id}/dropoffs/{dropoff['id']}/dismiss").status_code == 400
    dismissed = client.post(f"/console/contacts/{contact_id}/dropoffs/{dropoff['id']}/dismiss",
                            data={"csrf_token": token})
    assert dismissed.status_code == 302
    assert client.get(f"/v1/dropoffs/{dropoff['id']}", headers=acme.headers).json["status"] == "dismissed"
    [enrollment] = client.get(f"/v1/enrollments?contact_id={contact_id}", headers=acme.headers).json
    assert enrollment["status"] == "exited"


def test_contacts_are_searched_by_each_identifier(app, client, acme, globex):
    token = signed_in(client, acme)
    event = {"id": "e1", "type": "signup", "contact": {"email": "dana@example.com", "first_name": "Dana",
                                                      "phone": "+14155552671"}}
    assert client.post("/v1/events", json=event, headers=acme.headers).status_code == 200
    found = client.get("/console/contacts?by=phone&q=%2B14155552671").get_data(as_text=True)
    assert "dana@example.com" in found
    bad = client.get("/console/contacts?by=phone&q=nonsense")
    assert bad.status_code == 422 and 'id="q-problem"' in bad.get_data(as_text=True)
    assert "No contact matches." in client.get("/console/contacts?by=email&q=nobody@example.com").get_data(
        as_text=True)
    contact_id = client.get("/v1/contacts?email=dana@example.com", headers=acme.headers).json[0]["id"]
    assert client.get(f"/console/contacts/{contact_id}").status_code == 200
    client = app.test_client()
    signed_in(client, globex)
    assert client.get(f"/console/contacts/{contact_id}").status_code == 404
    assert "dana@example.com" not in client.get("/console/contacts").get_data(as_text=True)
    del token


def test_assets_are_compressed_and_cached(client, acme):
    answer = client.get("/console/assets/console.css", headers={"Accept-Encoding": "gzip, br"})
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    assert "max-age=86400" in answer.headers["Cache-Control"]
    assert client.get("/console/assets/../routes/dashboard.py").status_code == 404
    assert client.get("/console/assets/nothing.js").status_code == 404
    # The dashboard's too, and the charting library (4.8 MB as it is, about a third of that gzipped).
    for path in ("/dashboard/assets/dashboard.css", "/dashboard/assets/dashboard.js", "/dashboard/assets/plotly.js"):
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        plain = client.get(path)
        assert packed.headers["Content-Encoding"] == "gzip" and "max-age=86400" in packed.headers["Cache-Control"]
        assert "Content-Encoding" not in plain.headers and gzip.decompress(packed.data) == plain.data, path
        assert packed.headers["Vary"] == "Accept-Encoding"
    assert len(packed.data) < len(plain.data) / 2
    assert client.get("/dashboard/assets/../dashboard.html").status_code == 404


def test_rules_are_turned_off_and_their_waits_changed_with_the_kinds_own_checks(client, acme):
    token = signed_in(client, acme)
    page = client.get("/console/rules").get_data(as_text=True)
    assert "Application started, not completed" in page and "a start event, then no goal event within a wait" in page
    bad = client.post("/console/rules/application_abandoned", data={"csrf_token": token, "enabled": "on",
                                                                     "wait_name": "wait", "wait": "soon"})
    assert bad.status_code == 422 and 'id="rule-application_abandoned-problems"' in bad.get_data(as_text=True)
    saved = client.post("/console/rules/application_abandoned", data={"csrf_token": token, "wait_name": "wait",
                                                                       "wait": "48h"})
    assert saved.status_code == 302
    rule = client.get("/v1/rules/application_abandoned", headers=acme.headers).json
    assert rule["enabled"] is False and rule["params"]["wait"] == "48h"
    renamed = client.post("/console/rules/application_abandoned", data={
        "csrf_token": token, "enabled": "on", "event_lists": ["start_events", "goal_events"],
        "start_events": "app_begun\ncheckout_started", "goal_events": "", "match_key": "application_id"})
    text = renamed.get_data(as_text=True)
    assert renamed.status_code == 422 and '<p class="problem">goal events: ' in text
    assert 'name="goal_events" rows="2" aria-invalid="true"' in text
    renamed = client.post("/console/rules/application_abandoned", data={
        "csrf_token": token, "enabled": "on", "event_lists": ["start_events", "goal_events"],
        "start_events": "app_begun\ncheckout_started", "goal_events": "app_done", "match_key": "application_id"})
    assert renamed.status_code == 302
    params = client.get("/v1/rules/application_abandoned", headers=acme.headers).json["params"]
    assert params["start_events"] == ["app_begun", "checkout_started"] and params["goal_events"] == ["app_done"]
    assert params["match_key"] == "application_id" and params["wait"] == "48h"


def test_a_connection_is_saved_checked_and_its_key_never_shown(client, acme, sendgrid):
    token = signed_in(client, acme)
    form = {"csrf_token": token, "api_key": "SG.test-key.abcdefghij", "from_email": "not an email"}
    bad = client.post("/console/connections/sendgrid", data=form)
    assert bad.status_code == 422 and 'id="sendgrid-from_email-problem"' in bad.get_data(as_text=True)
    assert client.post("/console/connections/sendgrid", data={**form, "from_email": "hi@acme.com"}).status_code == 302
    page = client.get("/console/connections").get_data(as_text=True)
    assert "SG.test-key" not in page and "set; type a new one" in page
    assert client.post("/console/connections/sendgrid/check", data={"csrf_token": token}).status_code == 302
    page = client.get("/console/connections").get_data(as_text=True)
    assert 'id="sendgrid-status">ok<' in page
    # A new sender keeps the stored key; a wrong key is reported broken by the check.
    assert client.post("/console/connections/sendgrid", data={"csrf_token": token, "from_email": "new@acme.com",
                                                               "api_key": ""}).status_code == 302
    assert client.get("/v1/connections/sendgrid", headers=acme.headers).json["api_key_set"] is True
    client.post("/console/connections/sendgrid", data={"csrf_token": token, "from_email": "new@acme.com",
                                                      "api_key": "SG.wrong-key.abcdefghij"})
    client.post("/console/connections/sendgrid/check", data={"csrf_token": token})
    assert 'id="sendgrid-status">broken<' in client.get("/console/connections").get_data(as_text=True)


def test_hooks_show_their_deliveries_and_attempts_and_can_be_removed(app, client, acme, globex, receiver):
    from tests.support.journeys import DANA, abandon, setup_sales

    setup_sales(client, acme)
    hook = client.post("/v1/hooks", json={"target_url": f"{receiver.url}/zap", "event": "dropoff.detected",
                                          "label": "my zap"}, headers=acme.headers).json
    abandon(app, client, acme, DANA)
    token = signed_in(client, acme)
    page = client.get("/console/hooks").get_data(as_text=True)
    assert "my zap" in page and "delivered" in page and ": 200" in page and hook["secret"] not in page
    assert client.post(f"/console/hooks/{hook['id']}/remove", data={"csrf_token": token}).status_code == 302
    assert client.get("/v1/hooks", headers=acme.headers).json == []
    other = app.test_client()
    token = signed_in(other, globex)
    assert "my zap" not in other.get("/console/hooks").get_data(as_text=True)
    assert other.post(f"/console/hooks/{hook['id']}/remove", data={"csrf_token": token}).status_code == 404


def test_variants_are_edited_added_removed_and_previewed(client, acme):
    token = signed_in(client, acme)
    flow_id = int(client.post("/console/flows", data={"template": "sales", "csrf_token": token})
                  .headers["Location"].rsplit("/", 1)[1])
    url = f"/console/flows/{flow_id}/steps/1/pick-up"
    page = client.get(url).get_data(as_text=True)
    assert 'name="variant_B_subject"' in page and "Add variant C" in page
    form = {name: html.unescape(value) for name, value in
            re.findall(r'<input id="[^"]+" name="([^"]+)"[^>]*value="([^"]*)"', page)}
    form.update({"csrf_token": token, "channel": "email", "body": "Hello", "variant": "B", "action": "preview",
                 "variant_B_subject": "B for {{ contact.first_name }}", "new_variant_subject": "C: {{ oops"})
    broken = client.post(url, data=form)
    assert broken.status_code == 422 and "variants[1].subject" in broken.get_data(as_text=True)
    form["new_variant_subject"] = "C says hi"
    shown = client.post(url, data=form, headers={"X-Preview": "1"}).get_data(as_text=True)
    assert "B for Dana" in shown
    assert client.post(url, data={**form, "action": "save"}).status_code == 302
    step = client.get(f"/v1/flows/{flow_id}", headers=acme.headers).json["phases"][0]["steps"][0]
    assert [(v["key"], v["subject"]) for v in step["variants"]] == [("B", "B for {{ contact.first_name }}"),
                                                                    ("C", "C says hi")]
    saved = client.post(url, data={**form, "new_variant_subject": "", "variant_B_remove": "on", "variant": "A",
                                   "action": "save"})
    assert saved.status_code == 302
    step = client.get(f"/v1/flows/{flow_id}", headers=acme.headers).json["phases"][0]["steps"][0]
    assert [v["key"] for v in step["variants"]] == ["C"]


def test_hubspot_is_connected_and_checked_its_secrets_never_shown(client, acme, hubspot):
    token = signed_in(client, acme)
    form = {"csrf_token": token, "access_token": "pat-na1-test-token", "client_secret": "hubspot-client-secret",
            "portal_id": "not a number"}
    bad = client.post("/console/connections/hubspot", data=form)
    assert bad.status_code == 422 and 'id="hubspot-portal_id-problem"' in bad.get_data(as_text=True)
    assert client.post("/console/connections/hubspot", data={**form, "portal_id": "62515"}).status_code == 302
    assert client.post("/console/connections/hubspot/check", data={"csrf_token": token}).status_code == 302
    page = client.get("/console/connections").get_data(as_text=True)
    assert 'id="hubspot-status">ok<' in page and "pat-na1" not in page and "hubspot-client-secret" not in page
    shown = client.get("/v1/connections/hubspot", headers=acme.headers).json
    assert shown["portal_id"] == 62515 and shown["access_token_set"] and shown["client_secret_set"]


def test_a_hook_is_subscribed_with_the_apis_checks_and_its_secret_shown_once(app, client, acme, receiver):
    from tests.support.journeys import DANA, abandon, setup_sales

    setup_sales(client, acme)
    token = signed_in(client, acme)
    form = {"csrf_token": token, "event": "dropoff.detected", "target_url": f"{receiver.url}/zap",
            "filters": "scenario=sales.application_abandoned", "label": "from the console"}
    for bad, field in (({"target_url": "not a url"}, "target_url"), ({"event": "nothing.happened"}, "event"),
                       ({"filters": "scenario"}, "filters"), ({"filters": "colour=red"}, "filters-colour")):
        refused = client.post("/console/hooks", data={**form, **bad})
        assert refused.status_code == 422 and f'id="{field}-problem"' in refused.get_data(as_text=True), bad
    app.config["HOOK_ALLOWED_NETWORKS"] = ()
    private = client.post("/console/hooks", data=form)
    assert private.status_code == 422 and "Refused" in private.get_data(as_text=True)
    app.config["HOOK_ALLOWED_NETWORKS"] = ("127.0.0.0/8",)
    assert client.get("/v1/hooks", headers=acme.headers).json == []
    made = client.post("/console/hooks", data=form)
    secret = re.search(r'id="hook-secret"[^>]*>(whsec_[^<]+)<', made.get_data(as_text=True)).group(1)
    [hook] = client.get("/v1/hooks", headers=acme.headers).json
    assert made.status_code == 201 and hook["label"] == "from the console"
    assert hook["filters"] == {"scenario": "sales.application_abandoned"}
    assert secret not in client.get("/console/hooks").get_data(as_text=True)
    abandon(app, client, acme, DANA)
    [posted] = [r for r in receiver.requests if r.method == "POST"]
    assert Webhook(secret).verify(posted.raw, dict(posted.headers)) == posted.json  # signed with the secret shown


def test_a_step_is_added_to_a_phase_and_removed_through_the_apis_checks(client, acme):
    token = signed_in(client, acme)
    flow_id = int(client.post("/console/flows", data={"template": "sales", "csrf_token": token})
                  .headers["Location"].rsplit("/", 1)[1])
    blank = client.get(f"/console/flows/{flow_id}/steps/2/new")
    assert blank.status_code == 200 and 'name="key"' in blank.get_data(as_text=True)
    form = {"csrf_token": token, "key": "case-study", "channel": "email", "day": "4", "time": "10:00",
            "subject": "How others finished", "body": "Hi {{ contact.first_name or 'there' }}", "cta_label": "",
            "cta_url": "", "contact_email": "", "action": "save"}
    taken = client.post(f"/console/flows/{flow_id}/steps/2/new", data={**form, "key": "pick-up"})
    assert taken.status_code == 422 and "Already used" in taken.get_data(as_text=True)
    outside = client.post(f"/console/flows/{flow_id}/steps/2/new", data={**form, "day": "1"})
    assert outside.status_code == 422 and "Phase 2 covers" in outside.get_data(as_text=True)
    unnamed = client.post(f"/console/flows/{flow_id}/steps/2/new", data={**form, "key": ""})
    assert unnamed.status_code == 422 and 'id="key-problem"' in unnamed.get_data(as_text=True)
    assert client.post(f"/console/flows/{flow_id}/steps/2/new", data=form).status_code == 302
    steps = client.get(f"/v1/flows/{flow_id}", headers=acme.headers).json["phases"][1]["steps"]
    assert steps[-1]["key"] == "case-study" and steps[-1]["offset"] == "P4DT10H0M"
    removed = client.post(f"/console/flows/{flow_id}/steps/2/case-study/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    steps = client.get(f"/v1/flows/{flow_id}", headers=acme.headers).json["phases"][1]["steps"]
    assert "case-study" not in [step["key"] for step in steps]
    assert client.post(f"/console/flows/{flow_id}/steps/2/case-study/remove",
                       data={"csrf_token": token}).status_code == 404


def test_a_flow_is_deleted_only_when_confirmed_and_its_enrollments_exit(app, client, acme):
    from tests.support.journeys import DANA, abandon, setup_sales

    flow_id = setup_sales(client, acme)["id"]
    enrollment = abandon(app, client, acme, DANA)
    token = signed_in(client, acme)
    unconfirmed = client.post(f"/console/flows/{flow_id}/delete", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and 'id="confirm-problem"' in unconfirmed.get_data(as_text=True)
    deleted = client.post(f"/console/flows/{flow_id}/delete", data={"csrf_token": token, "confirm": "on"})
    assert deleted.status_code == 302
    assert "1 active enrollment(s) exited" in client.get(deleted.headers["Location"]).get_data(as_text=True)
    assert client.get(f"/v1/flows/{flow_id}", headers=acme.headers).status_code == 404
    shown = client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json
    assert shown["status"] == "exited" and shown["exit_reason"] == "flow_deleted"


def test_a_flows_settings_are_saved_through_the_apis_checks_and_it_is_turned_off_from_the_list(client, acme):
    token = signed_in(client, acme)
    flow_id = int(client.post("/console/flows", data={"template": "sales", "csrf_token": token})
                  .headers["Location"].rsplit("/", 1)[1])
    form = {"csrf_token": token, "name": "Sales, our way", "goal_events": "purchase_completed\ncall_attended",
            "holdout_percent": "20", "enroll_on": ["rule:application_abandoned", "rule:call_no_show"],
            "enroll_other": "scenario:sales.went_silent", "enabled": "on"}
    too_many = client.post(f"/console/flows/{flow_id}", data={**form, "holdout_percent": "80"})
    assert too_many.status_code == 422 and 'id="holdout_percent-problem"' in too_many.get_data(as_text=True)
    unnamed = client.post(f"/console/flows/{flow_id}", data={**form, "name": ""})
    assert unnamed.status_code == 422 and 'id="name-problem"' in unnamed.get_data(as_text=True)
    assert client.post(f"/console/flows/{flow_id}", data=form).status_code == 302
    flow = client.get(f"/v1/flows/{flow_id}", headers=acme.headers).json
    assert flow["name"] == "Sales, our way" and flow["holdout_percent"] == 20
    assert flow["goal_events"] == ["purchase_completed", "call_attended"]
    assert sorted(flow["enroll_on"]) == ["rule:application_abandoned", "rule:call_no_show",
                                         "scenario:sales.went_silent"]
    off = client.post(f"/console/flows/{flow_id}", data={"csrf_token": token, "toggle": "off",
                                                         "back": "/console/flows"})
    assert off.status_code == 302 and off.headers["Location"] == "/console/flows"
    assert client.get(f"/v1/flows/{flow_id}", headers=acme.headers).json["enabled"] is False
    assert client.post(f"/console/flows/{flow_id}", data={"toggle": "on"}).status_code == 400  # no CSRF token


def test_an_enrollment_is_exited_from_the_contacts_timeline(app, client, acme, globex):
    from tests.support.journeys import DANA, abandon, setup_sales

    setup_sales(client, acme)
    enrollment = abandon(app, client, acme, DANA)
    contact_id = enrollment["contact_id"]
    token = signed_in(client, acme)
    url = f"/console/contacts/{contact_id}/enrollments/{enrollment['id']}/exit"
    assert f'action="{url}"' in client.get(f"/console/contacts/{contact_id}").get_data(as_text=True)
    other = app.test_client()
    assert other.post(url, data={"csrf_token": signed_in(other, globex)}).status_code == 404
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    shown = client.get(f"/v1/enrollments/{enrollment['id']}", headers=acme.headers).json
    assert shown["status"] == "exited" and shown["exit_reason"] == "manual"
    assert "exited" in client.get(f"/console/contacts/{contact_id}").get_data(as_text=True)
