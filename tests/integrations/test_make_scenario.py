"""A Make scenario run from the app's own files against a live server: each module's request is built from its
communication section as Make builds it, and a later module maps an earlier module's output into its fields."""

import threading

import pytest
import requests
from werkzeug.serving import make_server

from tests.integrations import iml
from tests.integrations.test_make_app import FILES, MANIFEST, MODULES, section
from tests.support.journeys import DANA, abandon, setup_sales

BASE = FILES["general/base.iml.json"]


@pytest.fixture
def server(app):
    """The app answering HTTP on a local port, on the suite's database."""
    live = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=live.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live.server_port}"
    live.shutdown()
    thread.join(timeout=10)


def call(communication: dict, context: dict) -> requests.Response:
    """The request Make sends for a communication section, the base's URL and headers added."""
    made = iml.evaluate({key: value for key, value in communication.items() if key != "response"}, context)
    base = iml.evaluate({key: BASE[key] for key in ("baseUrl", "headers")}, context)
    url = made["url"] if made["url"].startswith("http") else base["baseUrl"] + made["url"]
    return requests.request(made["method"], url, params=made.get("qs"), json=made.get("body"), timeout=10,
                            headers={**base["headers"], **made.get("headers", {})})


def run(name: str, mapped: dict, bundles: dict, connection: dict) -> list[dict]:
    """One module: its mapped fields resolved against earlier bundles, its request sent, its bundles answered."""
    module = MODULES[name]
    spec = section(module, "staticParams") + section(module, "mappableParams")
    parameters = iml.fill(spec, iml.evaluate(mapped, bundles))
    communication = section(module, "communication")
    context = {"parameters": parameters, "connection": connection}
    response = call(communication, context)
    assert response.ok, response.text
    answered = response.json()
    items = answered if "iterate" in communication["response"] else [answered]
    names = {param["name"] for param in section(module, "interface")}
    for item in items:
        assert set(item) <= names, f"{name} outputs fields its interface does not offer for mapping"
    return items[: parameters.get("limit", len(items))]


def test_an_earlier_modules_output_is_mapped_into_send_phase_message(app, client, acme, server):
    setup_sales(client, acme)
    # The live server runs on the wall clock: a window open all day lets the message go as the scenario runs.
    always = {"send_window": {"start": "00:00", "end": "24:00", "days": ["mon", "tue", "wed", "thu", "fri", "sat",
                                                                         "sun"]}, "skip_holidays": False}
    assert client.patch("/v1/settings", json=always, headers=acme.headers).status_code == 200
    connection = {"base_url": server, "api_key": acme.key}
    [contact] = run("updateContact", {"email": "dana@example.com", "first_name": "Dana"}, {}, connection)
    [found] = run("findContact", {"email": "{{1.email}}", "limit": 1}, {"1": contact}, connection)
    mapped = {"contact_id": "{{2.id}}", "flow": "sales", "idempotency_key": "make-run-1",
              "message": {"subject": "Still there, {{2.first_name}}?", "body": "Your spot is saved.",
                          "cta": {"label": "Finish", "url": "https://app.example.com/resume"}}}
    [sent] = run("sendPhaseMessage", mapped, {"1": contact, "2": found}, connection)
    assert sent["contact_id"] == contact["id"] == found["id"] and sent["created"] is True
    assert sent["content"]["subject"] == "Still there, Dana?"
    [again] = run("sendPhaseMessage", mapped, {"1": contact, "2": found}, connection)
    assert again["id"] == sent["id"] and again["created"] is False
    # Collections left empty reach the API as `{}`, as Make sends them: the flow's own step goes.
    step = {"contact_id": "{{1.id}}", "flow": "sales", "phase": "1", "message": {"cta": {}}}
    [own] = run("sendPhaseMessage", step, {"1": contact}, connection)
    assert own["phase"] == 1 and own["step"].startswith("1.") and own["created"] is True


def test_a_polling_trigger_lists_new_items_by_their_date_marker(app, client, acme, server):
    connection = {"base_url": server, "api_key": acme.key}
    run("updateContact", {"external_id": "dana", "email": "dana@example.com"}, {}, connection)
    for key, kind in (("c1", "email.clicked"), ("r1", "email.replied")):
        run("recordEvent", {"id": key, "type": kind, "contact": {"external_id": "dana"}}, {}, connection)
    module = MODULES["watchContactEngaged"]
    items = run("watchContactEngaged", {"limit": 50}, {}, connection)
    trigger = section(module, "communication")["response"]["trigger"]
    dates = [iml.evaluate(trigger["date"], {"item": item}) for item in items]
    assert [item["type"] for item in items] == ["email.replied", "email.clicked"] and dates == sorted(dates)[::-1]


def test_a_refused_key_is_an_invalid_access_token_error(server):
    connection = MANIFEST["components"]["connection"]["reengage"]
    check = section(connection, "communication")
    response = call(check, {"parameters": {"base_url": server, "api_key": "rk_nope_nope"}})
    assert response.status_code == 401
    error = check["response"]["error"][str(response.status_code)]
    assert error["type"] == "InvalidAccessTokenError"
    assert iml.evaluate(error["message"], {"statusCode": 401, "body": response.json()}).startswith("[401] ")


def test_an_instant_trigger_attaches_receives_its_items_and_detaches(app, client, acme, server, receiver):
    setup_sales(client, acme)
    hook = MANIFEST["components"]["webhook"]["dropoff-detected"]
    context = {"connection": {"base_url": server, "api_key": acme.key}, "webhook": {"url": f"{receiver.url}/make"},
               "parameters": iml.fill(section(hook, "params"), {"scenario": "sales.application_abandoned"})}
    attached = call(section(hook, "attach"), context)
    assert attached.status_code == 201, attached.text
    data = iml.evaluate(section(hook, "attach")["response"]["data"], {"body": attached.json()})
    abandon(app, client, acme, DANA)
    [posted] = receiver.made("POST", "/make")
    bundle = iml.evaluate(section(hook, "communication")["output"], {"body": posted.json})
    instant = MODULES["dropoffDetectedInstant"]
    assert instant["webhook"] == "dropoff-detected" and bundle["scenario"] == "sales.application_abandoned"
    assert set(bundle) <= {param["name"] for param in section(instant, "interface")}
    detached = call(section(hook, "detach"), {**context, "webhook": data})
    assert detached.ok and client.get("/v1/hooks", headers=acme.headers).json == []
