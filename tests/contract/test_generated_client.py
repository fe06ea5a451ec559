"""A client generated from openapi.yaml (openapi-python-client) does a user's main journeys against a live server,
and reads every list the API has, with an item in each, into its typed models."""

import importlib
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml
from standardwebhooks import Webhook

from tests.fakes.receiver import FakeReceiver

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
EMAIL = "dana@example.com"


def operation(api_client, tag: str, operation_id: str):
    """The generated module of one operation: `api/<tag>/<operationId in snake_case>.py`."""
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
    return importlib.import_module(f"{api_client.__name__}.api.{tag}.{module}")


def models(api_client):
    return importlib.import_module(f"{api_client.__name__}.models")


@pytest.fixture(scope="module")
def receiver(live):
    """A hook target of each backend's own (`live` is made once per backend), so deliveries never mix."""
    fake = FakeReceiver()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def client(api_client, live):
    return api_client.AuthenticatedClient(base_url=live["base"], token=live["key"], raise_on_unexpected_status=True)


@pytest.fixture(scope="module")
def journey(api_client, client, receiver):
    """A hook subscribed, the sales flow cloned, and an application started two days ago (so abandoned)."""
    m = models(api_client)
    hook = operation(api_client, "hooks", "subscribe").sync_detailed(
        client=client, body=m.HookInput.from_dict({"target_url": f"{receiver.url}/zap", "event": "dropoff.detected"}))
    assert hook.status_code == 201 and isinstance(hook.parsed, m.HookCreated), hook.content
    flow = operation(api_client, "flows", "createFlow").sync_detailed(
        client=client, body=m.FlowInput.from_dict({"template": "sales", "holdout_percent": 0}))
    assert flow.status_code == 201 and isinstance(flow.parsed, m.Flow), flow.content
    started = datetime.now(UTC) - timedelta(days=2)
    posted = operation(api_client, "events", "postEvents").sync_detailed(client=client, body=m.EventInput.from_dict({
        "id": "app-start-1", "type": "application_started", "occurred_at": started.isoformat(),
        "contact": {"email": EMAIL, "first_name": "Dana", "timezone": "America/New_York"}, "value": 249}))
    assert posted.status_code == 200 and isinstance(posted.parsed, m.IntakeResult), posted.content
    assert posted.parsed.status == "created"
    return {"hook": hook.parsed, "flow": flow.parsed, "contact_id": posted.parsed.contact_id}


def until(read, deadline: float = 20.0):
    """`read()` once it answers something truthy (the live server's clock ticks every half second)."""
    stop = time.monotonic() + deadline
    while not (found := read()):
        assert time.monotonic() < stop, "nothing came before the deadline"
        time.sleep(0.2)
    return found


def test_a_posted_event_becomes_a_typed_dropoff(api_client, client, journey):
    m = models(api_client)
    listing = operation(api_client, "dropoffs", "listDropoffs")
    [dropoff] = until(lambda: listing.sync(client=client))
    assert isinstance(dropoff, m.Dropoff) and dropoff.contact_id == journey["contact_id"]
    assert dropoff.scenario == "sales.application_abandoned"
    one = operation(api_client, "dropoffs", "getDropoff").sync(dropoff.id, client=client)
    assert isinstance(one, m.Dropoff) and one.id == dropoff.id


def test_enrollments_with_no_exit_reason_read_as_none(api_client, client, journey):
    m = models(api_client)
    listing = operation(api_client, "enrollments", "listEnrollments")
    [enrollment] = until(lambda: listing.sync(client=client))
    assert isinstance(enrollment, m.Enrollment) and enrollment.exit_reason is None
    assert enrollment.flow_id == journey["flow"].id and str(enrollment.status) == "active"


def test_the_hook_delivery_verifies_with_the_subscription_secret(api_client, client, journey, receiver):
    [posted] = until(lambda: receiver.made("POST", "/zap"))
    item = Webhook(journey["hook"].secret).verify(posted.raw, dict(posted.headers))
    assert item["contact_id"] == journey["contact_id"]
    deliveries = until(lambda: [d for d in operation(api_client, "hooks", "listDeliveries").sync(
        journey["hook"].id, client=client) if str(d.status) == "delivered"])
    assert posted.headers["webhook-id"] == f"msg_{deliveries[0].id}"


def test_send_phase_message_sends_a_flow_step(api_client, client, journey):
    m = models(api_client)
    answer = operation(api_client, "actions", "actionSendPhaseMessage").sync_detailed(
        client=client, body=m.SendInput.from_dict({"email": EMAIL, "flow": journey["flow"].key, "phase": 2,
                                                   "idempotency_key": "zap-run-1"}))
    assert answer.status_code == 200 and isinstance(answer.parsed, m.SendOutput), answer.content
    assert answer.parsed.contact_id == journey["contact_id"] and answer.parsed.phase == 2
    again = operation(api_client, "actions", "actionSendPhaseMessage").sync(
        client=client, body=m.SendInput.from_dict({"email": EMAIL, "flow": journey["flow"].key, "phase": 2,
                                                   "idempotency_key": "zap-run-1"}))
    assert again.id == answer.parsed.id


def test_an_error_answer_reads_as_the_error_model(api_client, client, journey):
    m = models(api_client)
    missing = operation(api_client, "contacts", "getContact").sync_detailed(2**63, client=client)
    assert missing.status_code == 404 and isinstance(missing.parsed, m.Error)
    assert missing.parsed.error.code == "not_found"


def list_operations() -> list[tuple[str, str, str]]:
    """(tag, operationId, path) of every GET answering a JSON array."""
    found = []
    for path, item in SPEC["paths"].items():
        get = item.get("get")
        content = (get or {}).get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        if content.get("schema", {}).get("type") == "array":
            found.append((get["tags"][0], get["operationId"], path))
    return found


# Lists that need a query to list anything (searches): a value that matches the journey's contact.
QUERIES = {"searchFindContact": {"email": EMAIL}, "searchFindDropoff": {"email": EMAIL}}


# Lists left empty on purpose: send-time learning is off by default.
EMPTY = {"/v1/metrics/send-time"}


@pytest.fixture(scope="module")
def everything(live, journey):
    """After the journeys, something in every other list: a suppression, a lost deal (escalated, then made ready by
    a product update), an engagement, a recovery, and a flow's email and webhook steps sent."""
    base, headers = live["base"], {"Authorization": f"Bearer {live['key']}"}

    def call(method: str, path: str, body: dict | None = None):
        answer = requests.request(method, f"{base}{path}", json=body, headers=headers, timeout=10)
        assert answer.ok, (path, answer.status_code, answer.text[:500])
        return answer.json()

    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # the live server runs on the wall clock
    # Room for every step below to go now: the default cap (one message a channel a day) would hold one back.
    call("PATCH", "/v1/settings", {"send_window": {"start": "00:00", "end": "24:00", "days": days},
                                   "skip_holidays": False, "frequency_cap": {"messages": 10, "per": "PT1H"}})
    lost = datetime.now(UTC) - timedelta(days=60)
    call("POST", "/v1/deals", {"external_id": "D-1", "name": "DataTech analytics", "company": "DataTech",
                               "lost_at": lost.isoformat(), "loss_reason": "Feature gap (real-time analytics)",
                               "amount": 600000, "currency": "USD", "contacts": [{"email": "sarah@example.com"}]})
    call("POST", "/v1/product-updates", {"name": "Streaming Analytics", "gaps": ["real-time analytics"]})
    call("POST", "/v1/events", {"id": "click-1", "type": "email.clicked",
                                "contact": {"email": EMAIL, "phone": "+14155552671"}})
    for step in ("1.pick-up", "1.text-nudge"):
        call("POST", "/v1/actions/send-phase-message", {"email": EMAIL, "flow": journey["flow"].key, "step": step})
    lee = {"email": "lee@example.com", "first_name": "Lee"}
    started = datetime.now(UTC) - timedelta(days=2)
    call("POST", "/v1/events", {"id": "app-start-2", "type": "application_started", "occurred_at": started.isoformat(),
                                "contact": lee})
    [dropoff] = until(lambda: call("GET", "/v1/searches/find-dropoff?email=lee@example.com"))
    call("POST", "/v1/events", {"id": "app-done-2", "type": "application_completed", "contact": lee})
    call("POST", "/v1/suppressions", {"contact_id": dropoff["contact_id"], "channel": "sms"})


@pytest.mark.parametrize(("tag", "operation_id", "path"), list_operations(), ids=lambda value: str(value))
def test_a_typed_client_reads_every_list(api_client, client, journey, everything, tag, operation_id, path):
    ids = {"hook_id": journey["hook"].id}
    args = [ids[name] for name in re.findall(r"{(\w+)}", path)]
    read = operation(api_client, tag, operation_id)

    def listed():
        answer = read.sync_detailed(*args, client=client, **QUERIES.get(operation_id, {}))
        return answer if answer.parsed or path in EMPTY else None

    answer = until(listed)
    assert answer.status_code == 200 and isinstance(answer.parsed, list), answer.content[:500]
    assert all(hasattr(item, "to_dict") for item in answer.parsed), f"{path} read untyped items"
