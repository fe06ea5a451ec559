"""Templates and flows through the API: clone, import, export, change, refuse what would break, delete."""

import copy

import pytest

from reengage.sequencing import templates


def test_every_template_is_listed_with_five_phases(client, acme):
    listed = client.get("/v1/templates", headers=acme.headers).json
    assert [t["key"] for t in listed] == list(templates.KEYS)
    families = {t["family"] for t in listed}
    assert families == {"lead_magnet", "sales", "onboarding", "upsell", "closed_lost", "flow_failure"}
    for summary in listed:
        full = client.get(f"/v1/templates/{summary['key']}", headers=acme.headers).json
        assert len(full["phases"]) == 5 and all(phase["steps"] for phase in full["phases"])
    assert client.get("/v1/templates/nope", headers=acme.headers).status_code == 404


def test_failure_templates_say_what_to_do(client, acme):
    auth = client.get("/v1/templates/flow_failure_auth", headers=acme.headers).json
    assert "password" in auth["phases"][0]["steps"][0]["body"]
    maintenance = client.get("/v1/templates/flow_failure_maintenance", headers=acme.headers).json
    assert "back online" in maintenance["phases"][0]["steps"][0]["subject"]


def test_a_template_clones_into_two_accounts_independently(client, acme, globex):
    ours = client.post("/v1/flows", json={"template": "sales"}, headers=acme.headers)
    theirs = client.post("/v1/flows", json={"template": "sales"}, headers=globex.headers)
    assert ours.status_code == theirs.status_code == 201 and ours.json["id"] != theirs.json["id"]
    assert ours.json["enroll_on"] == ["family:sales"] and ours.json["template"] == "sales"
    phases = ours.json["phases"]
    phases[0]["steps"][0]["subject"] = "Acme's own subject"
    changed = client.patch(f"/v1/flows/{ours.json['id']}", json={"phases": phases, "name": "Acme sales"},
                           headers=acme.headers)
    assert changed.status_code == 200 and changed.json["name"] == "Acme sales"
    again = client.get(f"/v1/flows/{theirs.json['id']}", headers=globex.headers).json
    assert again["name"] == "Sales follow-up" and again["phases"][0]["steps"][0]["subject"] != "Acme's own subject"
    assert client.get("/v1/templates/sales", headers=acme.headers).json["phases"][0]["steps"][0]["subject"] != (
        "Acme's own subject")
    assert client.get(f"/v1/flows/{ours.json['id']}", headers=globex.headers).status_code == 404


def test_cloning_twice_needs_another_key_and_another_mapping(client, acme):
    client.post("/v1/flows", json={"template": "sales"}, headers=acme.headers)
    same_key = client.post("/v1/flows", json={"template": "sales"}, headers=acme.headers)
    assert same_key.status_code == 409 and same_key.json["error"]["details"]["fields"][0]["field"] == "key"
    same_route = client.post("/v1/flows", json={"template": "sales", "key": "sales-b"}, headers=acme.headers)
    assert same_route.status_code == 409 and "family:sales" in same_route.json["error"]["message"]
    fine = client.post("/v1/flows", json={"template": "sales", "key": "sales-b", "enroll_on": ["rule:call_no_show"]},
                       headers=acme.headers)
    assert fine.status_code == 201


def test_export_imports_into_another_account(client, acme, globex):
    created = client.post("/v1/flows", json={"template": "onboarding", "holdout_percent": 20}, headers=acme.headers)
    exported = client.get(f"/v1/flows/{created.json['id']}/export", headers=acme.headers).json
    assert "id" not in exported and exported["holdout_percent"] == 20
    imported = client.post("/v1/flows", json=exported, headers=globex.headers)
    assert imported.status_code == 201
    assert {k: v for k, v in imported.json.items() if k not in ("id", "created_at", "updated_at")} == exported


@pytest.mark.parametrize(("change", "field", "words"), [
    ("{{ contact.first_name ", "phases.0.steps.0.body", "Template error"),
    ("{{ dropoff.value + 1 }}", "phases.0.steps.0.body", "Fails to render"),
    ("{{ (range(3) | sum) ~ 1 / 0 }}", "phases.0.steps.0.body", "Fails to render"),
    ("{{ x | nosuchfilter }}", "phases.0.steps.0.body", "Template error"),
])
def test_a_broken_template_is_refused_when_saved(client, acme, change, field, words):
    flow = client.post("/v1/flows", json={"template": "sales"}, headers=acme.headers).json
    phases = flow["phases"]
    phases[0]["steps"][0]["body"] = change
    response = client.patch(f"/v1/flows/{flow['id']}", json={"phases": phases}, headers=acme.headers)
    assert response.status_code == 422
    [problem] = response.json["error"]["details"]["fields"]
    assert problem["field"].replace("[", ".").replace("]", "") == field and words in problem["message"]
    assert client.get(f"/v1/flows/{flow['id']}", headers=acme.headers).json["phases"][0]["steps"][0]["body"] != change


def test_steps_must_sit_inside_their_phase_and_be_complete(client, acme):
    flow = client.post("/v1/flows", json={"template": "sales"}, headers=acme.headers).json

    def refused(change) -> dict[str, str]:
        phases = copy.deepcopy(flow["phases"])
        change(phases)
        response = client.patch(f"/v1/flows/{flow['id']}", json={"phases": phases}, headers=acme.headers)
        assert response.status_code == 422
        return {p["field"]: p["message"] for p in response.json["error"]["details"]["fields"]}

    early = refused(lambda phases: phases[1]["steps"][0].update(offset="P1D"))
    assert early == {"phases[1].steps[0].offset": "Phase 2 covers 3-14 days after enrollment."}
    twice = refused(lambda phases: phases[3]["steps"][0].update(key=phases[0]["steps"][0]["key"]))
    assert twice == {"phases[3].steps[0].key": "Already used by another step of this flow."}
    untitled = refused(lambda phases: phases[2]["steps"][0].pop("subject"))
    assert list(untitled) == ["phases[2].steps[0].body"] and "subject and body" in untitled["phases[2].steps[0].body"]
    four = client.patch(f"/v1/flows/{flow['id']}", json={"phases": flow["phases"][:4]}, headers=acme.headers)
    assert four.status_code == 422 and "five phases" in four.json["error"]["message"]


def test_creating_needs_a_template_or_phases(client, acme):
    nothing = client.post("/v1/flows", json={"name": "x"}, headers=acme.headers)
    assert nothing.status_code == 422 and nothing.json["error"]["details"]["fields"][0]["field"] == "template"
    unknown = client.post("/v1/flows", json={"template": "nope"}, headers=acme.headers)
    assert unknown.status_code == 422
    bad_route = client.post("/v1/flows", json={"template": "sales", "enroll_on": ["sales"]}, headers=acme.headers)
    assert bad_route.status_code == 422 and "enroll_on" in bad_route.json["error"]["message"]


def test_deleting_a_flow_exits_its_enrollments_and_frees_its_key(client, acme):
    flow = client.post("/v1/flows", json={"template": "sales", "holdout_percent": 0}, headers=acme.headers).json
    client.post("/v1/contacts", json={"external_id": "dana", "email": "dana@example.com"}, headers=acme.headers)
    enrolled = client.post("/v1/actions/enroll", json={"external_id": "dana", "flow": "sales"}, headers=acme.headers)
    deleted = client.delete(f"/v1/flows/{flow['id']}", headers=acme.headers)
    assert deleted.status_code == 200 and deleted.json == {"id": flow["id"], "exited": 1}
    detail = client.get(f"/v1/enrollments/{enrolled.json['id']}", headers=acme.headers).json
    assert detail["exit_reason"] == "flow_deleted"
    assert all(m["status"] == "skipped" for m in detail["messages"])
    assert client.get(f"/v1/flows/{flow['id']}", headers=acme.headers).status_code == 404
    assert client.post("/v1/flows", json={"template": "sales"}, headers=acme.headers).status_code == 201


def test_render_previews_a_step_for_the_sample_and_for_a_contact(client, acme):
    client.post("/v1/flows", json={"template": "flow_failure_auth"}, headers=acme.headers)
    sample = client.post("/v1/actions/render", json={"flow": "flow_failure_auth", "step": "1.have-it-ready"},
                         headers=acme.headers)
    assert sample.status_code == 200 and "Dana" in sample.json["text"] and sample.json["variant"] == "A"
    client.post("/v1/contacts", json={"external_id": "sam", "email": "sam@example.com"}, headers=acme.headers)
    theirs = client.post("/v1/actions/render", json={"flow": "flow_failure_auth", "step": "have-it-ready",
                                                     "external_id": "sam", "variant": "B"}, headers=acme.headers)
    assert theirs.status_code == 200 and "Hi there" in theirs.json["text"]
    assert theirs.json["subject"].startswith("Two minutes") and "<p" in theirs.json["html"]
    missing = client.post("/v1/actions/render", json={"flow": "flow_failure_auth", "step": "9.nope"},
                          headers=acme.headers)
    assert missing.status_code == 404


def test_settings_are_checked_and_shown_whole(client, acme):
    shown = client.get("/v1/settings", headers=acme.headers).json
    assert shown["send_window"] == {"start": "09:00", "end": "18:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
    bad = client.patch("/v1/settings", json={"timezone": "Mars/Base", "country": "ZZ",
                                             "send_window": {"start": "18:00", "end": "09:00", "days": []}},
                       headers=acme.headers)
    fields = {p["field"] for p in bad.json["error"]["details"]["fields"]}
    assert bad.status_code == 422 and {"timezone", "country", "send_window.days"} <= fields
    for end, problem in (("24:30", "'24:00' for midnight"), ("00:00", "Must be later than start.")):
        late = client.patch("/v1/settings", json={"send_window": {"start": "00:00", "end": end, "days": ["mon"]}},
                            headers=acme.headers)
        assert late.status_code == 422 and late.json["error"]["details"]["fields"][0]["field"] == "send_window.end"
        assert problem in late.json["error"]["details"]["fields"][0]["message"]
    all_day = client.patch("/v1/settings", json={"send_window": {"start": "00:00", "end": "24:00", "days": ["sun"]}},
                           headers=acme.headers)
    assert all_day.status_code == 200 and all_day.json["send_window"]["end"] == "24:00"
    good = client.patch("/v1/settings", json={"country": "gb", "frequency_cap": {"messages": 2, "per": "P1D"}},
                        headers=acme.headers)
    assert good.status_code == 200 and good.json["country"] == "GB" and good.json["timezone"] == "UTC"
