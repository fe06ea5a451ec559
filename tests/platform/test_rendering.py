"""The render budget: every template bomb is refused with a 422 naming its field, wherever a template is rendered."""

import resource
import time
from datetime import timedelta
from uuid import uuid4

import pytest
from jinja2 import Template
from sqlalchemy import update

from reengage.models import Flow
from reengage.platform import db, rendering, sandbox
from reengage.platform.sandbox import MAX_SIZE, MAX_STEPS, PAUSE_STEPS
from reengage.samples import TEMPLATE_CONTEXTS
from reengage.web import render_limit
from tests.support.journeys import DANA, T, setup_sales

WORKDAY = T + timedelta(hours=2)
BOMBS = {
    "nested loops": "{% for i in range(100000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
    "string repetition": "{{ 'x' * 10**8 }}",
    "printf width": "{{ '%99999999d' % 1 }}",
    "printf width from the values": "{{ '%*d' % (99999999, 1) }}",
    "format width": "{{ '{:>99999999}'.format(1) }}",
    "format filter width": "{{ '%99999999d'|format(1) }}",
    "lipsum": "{{ lipsum(100000) }}",
    "integer literal over 4,300 digits": "{{ " + "9" * 5000 + " }}",
    "power": "{{ 9 ** 99999999 }}",
    "padding": "{{ 'x'.center(10**9) }}",
    "replace": "{{ ('x' * 99999).replace('', 'y' * 99999) }}",
    "doubling by ~": "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "exponential macro": "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(60) }}",
    "recursive loop": "{% for x in range(3) recursive %}{% if loop.depth < 40 %}{{ loop(range(3)) }}{% endif %}"
                      "{% endfor %}",
    "captured block": "{% set a %}{% for i in range(40000) %}{{ 'x' * 99 }}{% endfor %}{% endset %}{{ a|length }}",
    "batch fill": "{{ [1]|batch(10**9, 'x')|list }}",
    "list of long strings": "{{ ['x' * 50000] * 100000 }}",
}


def fields_of(response):
    return {(f["field"], f["message"]) for f in response.json["error"]["details"]["fields"]}


@pytest.fixture
def flow(client, acme):
    return setup_sales(client, acme)


def with_body(flow, body):
    phases = [dict(phase, steps=[dict(step) for step in phase["steps"]]) for phase in flow["phases"]]
    phases[0]["steps"][1]["body"] = body
    return phases


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_a_template_bomb_is_refused_when_a_flow_is_changed(client, acme, flow, bomb):
    response = client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, bomb)}, headers=acme.headers)
    assert response.status_code == 422, response.json
    assert [field for field, _ in fields_of(response)] == ["phases[0].steps[1].body"]


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_a_template_bomb_is_refused_when_a_flow_is_created(client, acme, flow, bomb):
    exported = client.get(f"/v1/flows/{flow['id']}/export", headers=acme.headers).json
    body = {**exported, "key": "bombed", "enroll_on": [], "phases": with_body(flow, bomb)}
    response = client.post("/v1/flows", json=body, headers=acme.headers)
    assert response.status_code == 422
    assert [field for field, _ in fields_of(response)] == ["phases[0].steps[1].body"]


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_a_template_bomb_written_in_a_send_is_refused(client, acme, flow, bomb):
    client.post("/v1/actions/update-contact", json=DANA, headers=acme.headers)
    response = client.post("/v1/actions/send-phase-message", headers=acme.headers, json={
        "external_id": "dana", "flow": "sales", "message": {"subject": "Hi", "body": bomb}})
    assert response.status_code == 422
    assert [field for field, _ in fields_of(response)] == ["message.body"]


def test_a_refusal_says_which_limit_was_passed(client, acme, flow):
    loops = client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, BOMBS["nested loops"])},
                         headers=acme.headers)
    assert f"more than {MAX_STEPS:,} steps" in loops.json["error"]["message"]
    long = client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, BOMBS["string repetition"])},
                        headers=acme.headers)
    assert f"longer than {MAX_SIZE:,} characters" in long.json["error"]["message"]


def test_bombs_do_not_blow_the_memory(client, acme, flow):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for bomb in ("{{ 'x' * 10**8 }}", "{{ ['x' * 99999] * 1000 }}", "{{ lipsum(5, max=10**8) }}",
                 "{{ [1]|batch(10**9, 'x')|list }}"):
        response = client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, bomb)},
                                headers=acme.headers)
        assert response.status_code == 422
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000  # each would take 100 MB or more if it were computed


# Fine at save time (the sample contact has no `n`), a bomb for a contact whose `n` is large.
DATA_BOMB = ("{% set n = contact.properties.n|default(0)|int %}"
             "{% for i in range(n) %}{% for j in range(n) %}{% endfor %}{% endfor %}")


def test_a_preview_over_the_budget_is_a_422_naming_the_step(client, acme, flow):
    changed = client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, DATA_BOMB)},
                           headers=acme.headers)
    assert changed.status_code == 200, changed.json
    client.post("/v1/actions/update-contact", json={**DANA, "properties": {"n": 100000}}, headers=acme.headers)
    step = f"1.{flow['phases'][0]['steps'][1]['key']}"
    response = client.post("/v1/actions/render", json={"flow": "sales", "step": step, "external_id": "dana"},
                           headers=acme.headers)
    assert response.status_code == 422
    [(field, message)] = fields_of(response)
    assert field == "step" and "body" in message and f"more than {MAX_STEPS:,} steps" in message
    sample = client.post("/v1/actions/render", json={"flow": "sales", "step": step}, headers=acme.headers)
    assert sample.status_code == 200


def test_a_send_over_the_budget_fails_with_the_reason(client, acme, flow):
    client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, DATA_BOMB)}, headers=acme.headers)
    client.post("/v1/actions/update-contact", json={**DANA, "properties": {"n": 100000}}, headers=acme.headers)
    step = flow["phases"][0]["steps"][1]["key"]
    with db.as_of(WORKDAY):
        response = client.post("/v1/actions/send-phase-message", headers=acme.headers,
                               json={"external_id": "dana", "flow": "sales", "step": step, "idempotency_key": "b"})
    assert response.status_code == 200 and response.json["status"] == "failed"
    assert response.json["reason"].startswith("could not render: body: Refused: over the render budget")


def test_ordinary_templates_still_render(client, acme, flow):
    body = ("Hi {{ contact.first_name or 'there' }}, {% for i in range(3) %}{{ i }}{% endfor %} "
            "{{ '%05.1f' % 3.14159 }} {{ '{:>6}'.format('ok') }} {{ [1, 2]|join(', ') }} {{ 2 ** 10 }}")
    changed = client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, body)}, headers=acme.headers)
    assert changed.status_code == 200
    step = f"1.{flow['phases'][0]['steps'][1]['key']}"
    shown = client.post("/v1/actions/render", json={"flow": "sales", "step": step}, headers=acme.headers).json
    assert shown["text"].startswith("Hi Dana, 012 003.1     ok 1, 2 1024")


def test_a_changed_template_is_checked_once_when_a_flow_is_saved(client, acme, flow, monkeypatch):
    checked, check = [], rendering.problem
    monkeypatch.setattr(rendering, "problem",
                        lambda source, contexts: checked.append(source) or check(source, contexts))
    body = f"Hi {{{{ contact.first_name }}}}, {uuid4().hex}"
    response = client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, body)}, headers=acme.headers)
    assert response.status_code == 200 and checked.count(body) == 1


def test_an_amount_too_large_to_write_out_is_no_amount(client, acme, flow):
    body = "Total: {{ '1e999999999'|money }}{{ 'nan'|money('USD') }}."
    changed = client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, body)}, headers=acme.headers)
    assert changed.status_code == 200
    step = f"1.{flow['phases'][0]['steps'][1]['key']}"
    shown = client.post("/v1/actions/render", json={"flow": "sales", "step": step}, headers=acme.headers).json
    assert shown["text"].startswith("Total: .")


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_a_bomb_stored_before_the_budget_is_refused_in_a_preview_and_fails_its_send(app, client, acme, flow, bomb):
    with app.app_context(), db.transaction() as db_session:
        db_session.execute(update(Flow).where(Flow.id == flow["id"]).values(phases=with_body(flow, bomb)))
    client.post("/v1/actions/update-contact", json=DANA, headers=acme.headers)
    key = flow["phases"][0]["steps"][1]["key"]
    preview = client.post("/v1/actions/render", json={"flow": "sales", "step": f"1.{key}"}, headers=acme.headers)
    assert preview.status_code == 422 and [field for field, _ in fields_of(preview)] == ["step"]
    with db.as_of(WORKDAY):
        sent = client.post("/v1/actions/send-phase-message", headers=acme.headers,
                           json={"external_id": "dana", "flow": "sales", "step": key, "idempotency_key": "b"})
    assert sent.json["status"] == "failed" and sent.json["reason"].startswith("could not render: body: ")


def test_a_long_render_gives_way_to_other_requests_and_a_short_one_never(app, monkeypatch):
    from reengage.platform import busy

    pauses: list[float] = []
    monkeypatch.setattr(busy, "give_way", lambda seconds: pauses.append(seconds) or 0.0)
    with app.app_context():
        assert rendering.problem("Hi {% for i in range(20) %}{{ i }}{% endfor %}", TEMPLATE_CONTEXTS) is None
        assert pauses == []
        assert rendering.problem(BOMBS["nested loops"], TEMPLATE_CONTEXTS)
    assert len(pauses) >= MAX_STEPS // PAUSE_STEPS - 1


@pytest.fixture
def strict(app):
    """Two refused renders a second allowed per account (TEMPLATE_REFUSAL_LIMIT)."""
    app.extensions[sandbox.GUARD] = render_limit.RefusalLimit("2 per 1 second", None)


def test_an_account_whose_templates_keep_passing_the_budget_is_held_back(strict, client, make_account, monkeypatch):
    bomber, other = make_account("Bomber"), make_account("Other")
    flow, others = setup_sales(client, bomber), setup_sales(client, other)
    for _ in range(2):  # a template known bad is answered from what was found (in any test), so each bomb is new
        refused = client.patch(f"/v1/flows/{flow['id']}", headers=bomber.headers,
                               json={"phases": with_body(flow, f"{BOMBS['nested loops']} {uuid4()}")})
        assert refused.status_code == 422 and [f for f, _ in fields_of(refused)] == ["phases[0].steps[1].body"]
    renders = []
    monkeypatch.setattr(Template, "render", lambda template, *args, **kwargs: renders.append(template) or "")
    held = client.patch(f"/v1/flows/{flow['id']}", headers=bomber.headers,
                        json={"phases": with_body(flow, f"{BOMBS['nested loops']} {uuid4()}")})
    assert held.status_code == 429 and held.json["error"]["code"] == "rate_limited"
    assert "render budget" in held.json["error"]["message"] and 1 <= int(held.headers["Retry-After"]) <= 1
    fine = client.patch(f"/v1/flows/{flow['id']}", headers=bomber.headers,  # a template not checked before
                        json={"phases": with_body(flow, "Hi {{ contact.first_name }}! " + str(uuid4()))})
    assert fine.status_code == 429 and renders == []  # nothing of the account's is rendered meanwhile
    monkeypatch.undo()
    # Another account is not held back: its bomb is refused as before, its changes go through.
    assert client.patch(f"/v1/flows/{others['id']}", json={"phases": with_body(others, f"{BOMBS['lipsum']} {uuid4()}")},
                        headers=other.headers).status_code == 422
    assert client.patch(f"/v1/flows/{others['id']}", json={"phases": with_body(others, "Hi")},
                        headers=other.headers).status_code == 200
    time.sleep(1.1)  # the window moves on
    fixed = client.patch(f"/v1/flows/{flow['id']}", headers=bomber.headers,
                         json={"phases": with_body(flow, "Hi {{ contact.first_name }}!")})
    assert fixed.status_code == 200, fixed.json


def test_a_held_back_account_still_sends_and_its_sends_fail_alone(strict, client, acme):
    tenant = acme
    flow = setup_sales(client, tenant)
    client.patch(f"/v1/flows/{flow['id']}", json={"phases": with_body(flow, DATA_BOMB)}, headers=tenant.headers)
    client.post("/v1/actions/update-contact", json={**DANA, "properties": {"n": 100000}}, headers=tenant.headers)
    for _ in range(2):
        refused = client.patch(f"/v1/flows/{flow['id']}", headers=tenant.headers,
                               json={"phases": with_body(flow, f"{BOMBS['lipsum']} {uuid4()}")})
        assert refused.status_code == 422
    step = flow["phases"][0]["steps"][1]["key"]
    assert client.post("/v1/actions/render", json={"flow": "sales", "step": f"1.{step}"},
                       headers=tenant.headers).status_code == 429
    with db.as_of(WORKDAY):
        response = client.post("/v1/actions/send-phase-message", headers=tenant.headers,
                               json={"external_id": "dana", "flow": "sales", "step": step, "idempotency_key": "h"})
    # The send is not held back: it renders (over its budget here, so it fails with the reason) and is not counted.
    assert response.status_code == 200 and response.json["status"] == "failed"
    assert response.json["reason"].startswith("could not render: body: Refused: over the render budget")
