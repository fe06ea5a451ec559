"""Service status: maintenance dropoffs wait until their service is operational again."""

from datetime import timedelta

from tests.support.detection import dropoffs, send, tick

MAINTENANCE = {"company": {"_id": "c-1", "name": "Acme Payroll"}}


def status(client, tenant, service, state):
    return client.post("/v1/actions/service-status", json={"service": service, "status": state},
                       headers=tenant.headers)


def test_maintenance_dropoff_waits_for_its_service(app, client, acme):
    assert status(client, acme, "Acme Payroll", "maintenance").json["released"] == 0
    send(client, acme, "e1", "Viewed Under Maintenance Page", properties=MAINTENANCE)
    tick(app, timedelta(hours=1))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["category"] == "maintenance" and dropoff["service"] == "Acme Payroll"
    assert dropoff["ready_at"] is None
    assert [d["id"] for d in dropoffs(client, acme, "?ready=false")] == [dropoff["id"]]
    response = status(client, acme, "Acme Payroll", "operational")
    assert response.status_code == 200 and response.json["released"] == 1
    assert dropoffs(client, acme)[0]["ready_at"] is not None
    assert dropoffs(client, acme, "?ready=false") == []
    assert status(client, acme, "Acme Payroll", "operational").json["released"] == 0


def test_without_a_reported_outage_a_maintenance_dropoff_is_ready_at_once(app, client, acme):
    send(client, acme, "e1", "Viewed Under Maintenance Page", properties=MAINTENANCE)
    tick(app, timedelta(hours=1))
    assert dropoffs(client, acme)[0]["ready_at"] is not None


def test_other_categories_never_wait(app, client, acme):
    status(client, acme, "Acme Payroll", "maintenance")
    send(client, acme, "e1", "Viewed MFA Page", properties=MAINTENANCE)
    tick(app, timedelta(hours=1))
    [dropoff] = dropoffs(client, acme)
    assert dropoff["category"] == "mfa" and dropoff["ready_at"] is not None


def test_a_service_is_per_account(app, client, acme, globex):
    status(client, globex, "Acme Payroll", "maintenance")
    send(client, acme, "e1", "Viewed Under Maintenance Page", properties=MAINTENANCE)
    tick(app, timedelta(hours=1))
    assert dropoffs(client, acme)[0]["ready_at"] is not None


def test_bad_status_is_named(client, acme):
    response = status(client, acme, "Acme Payroll", "flaky")
    assert response.status_code == 422 and response.json["error"]["details"]["fields"][0]["field"] == "status"
