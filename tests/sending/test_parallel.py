"""Sends through SendGrid in one job: one connection read, kept-alive connections, parallel up to the limit."""

import dataclasses
import threading
from datetime import datetime, timedelta

import pytest
from rq.timeouts import JobTimeoutException

from reengage.channels import CHANNELS
from reengage.platform import config, vault
from tests.fakes.sendgrid import FakeSendGrid
from tests.fakes.server import Recorded, Reply
from tests.support import event
from tests.support.connections import connect
from tests.support.journeys import T, setup_sales, tick

PEOPLE = 4


def first_emails(app, client, acme) -> tuple[list[dict], datetime]:
    """PEOPLE contacts who each left an application at T: their first emails, all due at one moment."""
    setup_sales(client, acme)
    for n in range(PEOPLE):
        body = event(f"s{n}", occurred_at=T.isoformat(),
                     contact={"external_id": f"c{n}", "email": f"c{n}@example.com", "timezone": "America/New_York"})
        assert client.post("/v1/events", json=body, headers=acme.headers).status_code == 200
    tick(app, T + timedelta(hours=24))
    emails = client.get("/v1/messages?channel=email&phase=1&status=scheduled", headers=acme.headers).json
    firsts = [m for m in emails if m["step"] == "1.pick-up"]
    assert len(firsts) == PEOPLE and len({m["due_at"] for m in firsts}) == 1
    return firsts, datetime.fromisoformat(firsts[0]["due_at"])


def status(client, acme, message) -> str:
    return client.get(f"/v1/messages/{message['id']}", headers=acme.headers).json["status"]


def test_a_job_reads_the_connection_once_and_keeps_its_http_connection_open(app, client, acme, sendgrid,
                                                                           monkeypatch):
    connect(client, acme)
    emails, due = first_emails(app, client, acme)
    app.config["SEND_CONCURRENCY"] = {"sendgrid": 1}
    unsealed = []
    unseal = vault.unseal
    monkeypatch.setattr(vault, "unseal", lambda sealed: unsealed.append(1) or unseal(sealed))
    tick(app, due)
    assert all(status(client, acme, m) == "sent" for m in emails)
    posts = sendgrid.made("POST", r"/v3/mail/send")
    assert len(posts) == PEOPLE and len(unsealed) == 1
    assert len({post.peer for post in posts}) == 1  # one TCP connection, kept alive between the sends


class Gate(FakeSendGrid):
    """Holds each mail until `wanted` are in flight together (or a few seconds pass), counting the most at once."""

    def __init__(self, wanted: int):
        self.wanted, self.flying, self.most = wanted, 0, 0
        self._changed = threading.Condition()
        super().__init__()

    def _answer(self, recorded: Recorded) -> Reply:
        if recorded.path.startswith("/v3/mail/send"):
            with self._changed:
                self.flying += 1
                self.most = max(self.most, self.flying)
                self._changed.notify_all()
                self._changed.wait_for(lambda: self.flying >= self.wanted, timeout=5)
            reply = super()._answer(recorded)
            with self._changed:
                self.flying -= 1
            return reply
        return super()._answer(recorded)


def test_sends_of_a_job_go_in_parallel_up_to_the_providers_limit(app, client, acme):
    gate = Gate(wanted=2)
    app.config["SENDGRID_API_HOST"] = gate.url
    try:
        connect(client, acme)
        emails, due = first_emails(app, client, acme)
        app.config["SEND_CONCURRENCY"] = {"sendgrid": 2}
        tick(app, due)
        assert all(status(client, acme, m) == "sent" for m in emails)
        assert len(gate.sent) == PEOPLE and gate.most == 2
    finally:
        gate.close()


def test_a_job_stopped_midway_records_the_sends_that_finished_and_leaves_the_cut_one_to_recovery(
        app, client, acme, sendgrid, monkeypatch):
    connect(client, acme)
    emails, due = first_emails(app, client, acme)
    stopped_id = emails[1]["id"]
    deliver = CHANNELS["email"].deliver

    def stopped_once(outgoing):
        if outgoing.id == stopped_id:
            raise JobTimeoutException("Task exceeded maximum timeout value")
        return deliver(outgoing)

    monkeypatch.setitem(CHANNELS, "email", dataclasses.replace(CHANNELS["email"], deliver=stopped_once))
    tick(app, due)
    assert [status(client, acme, m) for m in emails] == ["sent", "sending", "sent", "sent"]
    monkeypatch.undo()
    tick(app, due + timedelta(seconds=app.config["MESSAGE_CONFIRM_WINDOW_SECONDS"] + 1))
    assert all(status(client, acme, m) == "sent" for m in emails) and len(sendgrid.sent) == PEOPLE


@pytest.mark.parametrize(("given", "read"), [("sendgrid=4", {"sendgrid": 4}),
                                             ("sendgrid=8, hubspot=2", {"sendgrid": 8, "hubspot": 2})])
def test_send_concurrency_is_read_per_provider(monkeypatch, given, read):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/reengage")
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("SEND_CONCURRENCY", given)
    assert config.load()["SEND_CONCURRENCY"] == read


@pytest.mark.parametrize("given", ["sendgrid=0", "sendgrid=many", "=3"])
def test_a_send_concurrency_that_is_not_a_count_refuses_to_start(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/reengage")
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("SEND_CONCURRENCY", given)
    with pytest.raises(RuntimeError, match="SEND_CONCURRENCY"):
        config.load()
