#!/usr/bin/env python3
"""Metrics query benchmark: GET /v1/metrics over N messages (default 1,000,000) in one account.

250,000 dropoffs (a quarter recovered), each enrolled with four sent email messages across phases 1-4
and variants A/B, with the tally of them that sending keeps and the credit recovery gives on each
dropoff. Times, in the same run, the no-op baseline (GET /v1/me: authentication only) and every
metrics grouping (by a dropoff's own dimensions, and by day over a period whose ends are not UTC
midnights; by a message's), the A/B tests, the holdout lift and one dashboard page view (a custom
range in the account's time zone, America/Chicago), each the median of a few runs. Queries the rollups
serve are timed twice: first scanning every dropoff or message as before the rollups (before), then from
the rollups (after), with the same answer. Target: each metrics query under 1 s, a dashboard page
under 1.5 s.

    .venv/bin/python bench/metrics.py [--messages 1000000] [--runs 5] [--postgres postgresql://...] [--reuse]

--reuse times the history an earlier run left in the --postgres database (loading 1,000,000 messages there takes
about 20 minutes) with a new key of its account, after the migrations the code has now.
"""

import argparse
import itertools
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import scoreboard  # bench/scoreboard.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PER_DROPOFF, CHUNK = 4, 20_000
# Without a message dimension the figures come from the dropoffs' tallies; with one, from the messages.
PERIOD = "from=2026-06-03T10:30:00Z&to=2026-07-20T15:45:00Z"
QUERIES = ("/v1/metrics", "/v1/metrics?group_by=day", f"/v1/metrics?group_by=day&{PERIOD}",
           "/v1/metrics?group_by=stage", "/v1/metrics?group_by=scenario", f"/v1/metrics?group_by=rule&{PERIOD}",
           "/v1/metrics?group_by=channel", "/v1/metrics?group_by=variant", "/v1/metrics?group_by=variant&phase=1",
           "/v1/metrics?group_by=flow", "/v1/metrics?group_by=phase", "/v1/metrics/ab-tests", "/v1/metrics/holdout",
           "/dashboard?from=2026-06-01&to=2026-07-31")
# What the rollups serve: the dropoff rollups without a message dimension to group or filter by, the message
# rollups with one, and the A/B tests.
ROLLED = tuple(path for path in QUERIES if path != "/v1/metrics/holdout")


def load(app, client, messages: int) -> dict:
    from sqlalchemy import bindparam, insert, select, text, update

    from reengage import accounts
    from reengage.models import Contact, Dropoff, Enrollment, Flow, Message
    from reengage.platform import db

    with app.app_context():
        with db.transaction() as session:
            account, key = accounts.create(session, "Bench")
        headers = {"Authorization": f"Bearer {key}"}
        assert client.post("/v1/flows", json={"template": "sales"}, headers=headers).status_code == 201
        assert client.patch("/v1/settings", json={"timezone": "America/Chicago"}, headers=headers).status_code == 200
        flow_id = db.session().scalar(select(Flow.id).where(Flow.account_id == account.id))
        start = datetime(2026, 6, 1, tzinfo=UTC)
        dropoffs = messages // PER_DROPOFF
        postgres = db.session().get_bind().dialect.name == "postgresql"
        # A small first chunk, then the tables analysed after each: the rollup triggers' lookups on PostgreSQL are
        # planned from the statistics, which autovacuum would only gather between transactions.
        bounds = (0, *range(1_000, dropoffs, CHUNK), dropoffs)
        for first, last in itertools.pairwise(bounds):
            if postgres and first:
                db.session().execute(text("ANALYZE"))
                db.session().commit()
            numbers = range(first, last)
            with db.transaction() as session:
                contact_ids = list(session.scalars(insert(Contact).returning(Contact.id), [
                    {"account_id": account.id, "external_id": f"c{n}", "properties": {}, "consent": {},
                     "created_at": start, "updated_at": start} for n in numbers]))
                detected = [start + timedelta(minutes=n % (60 * 24 * 60)) for n in numbers]
                dropoff_ids = list(session.scalars(insert(Dropoff).returning(Dropoff.id), [
                    {"account_id": account.id, "rule_key": "bench", "contact_id": cid, "match_value": "",
                     "scenario": "sales.application_abandoned", "stage": "sales", "kind": "inactivity",
                     "category": "inactive", "intent": "high", "started_at": at, "occurred_at": at, "detected_at": at,
                     "status": "recovered" if n % 4 == 0 else "enrolled", "segment": {}, "ready_at": at,
                     "recovered_at": at + timedelta(days=3) if n % 4 == 0 else None,
                     "recovery_seconds": 3 * 86400 + n % 977 if n % 4 == 0 else None,
                     "revenue": 100 + n % 7 if n % 4 == 0 else None, "currency": "USD" if n % 5 else "EUR",
                     # The tally sending and engagement keep (reengage.results.tally), for the messages below.
                     "messages_sent": PER_DROPOFF, "messages_delivered": PER_DROPOFF,
                     "messages_opened": PER_DROPOFF if n % 3 == 0 else 0, "messages_clicked": 0,
                     "message_cost": 0, "first_touch_seconds": 12 * 3600.0 + n % 1013, "re_engaged": n % 3 == 0}
                    for n, cid, at in zip(numbers, contact_ids, detected, strict=True)]))
                enrollment_ids = list(session.scalars(insert(Enrollment).returning(Enrollment.id), [
                    {"account_id": account.id, "flow_id": flow_id, "contact_id": cid, "dropoff_id": did,
                     "status": "active", "holdout": False, "variants": {}, "source": "dropoff", "started_at": at}
                    for cid, did, at in zip(contact_ids, dropoff_ids, detected, strict=True)]))
                rows = []
                for n, cid, eid, at in zip(numbers, contact_ids, enrollment_ids, detected, strict=True):
                    for phase in range(1, PER_DROPOFF + 1):
                        sent = at + timedelta(hours=phase * 12)
                        rows.append({"account_id": account.id, "enrollment_id": eid, "flow_id": flow_id,
                                     "contact_id": cid, "step": f"{phase}.s", "phase": phase, "channel": "email",
                                     "variant": "AB"[n % 2], "status": "sent", "planned_at": sent, "due_at": sent,
                                     "attempts": 1, "sent_at": sent, "delivered_at": sent,
                                     "opened_at": sent if n % 3 == 0 else None, "content": {},
                                     "created_at": sent, "updated_at": sent})
                session.execute(insert(Message), rows)
                # Recovery credits each recovered dropoff's last message (phase 4, a day before it).
                recovered = {eid: did for n, did, eid in zip(numbers, dropoff_ids, enrollment_ids, strict=True)
                             if n % 4 == 0}
                last = session.execute(select(Message.enrollment_id, Message.id).where(
                    Message.enrollment_id.in_(recovered), Message.phase == PER_DROPOFF))
                session.execute(update(Dropoff.__table__).where(Dropoff.id == bindparam("dropoff")).values(
                    credited_message_id=bindparam("message")),
                    [{"dropoff": recovered[eid], "message": mid} for eid, mid in last])
    return headers


def reused(app, messages: int) -> dict:
    """A new key of the account an earlier run loaded (holding `messages` sent messages)."""
    from sqlalchemy import func, select

    from reengage.models import Account, Message
    from reengage.platform import db
    from reengage.platform.auth import mint_key

    with app.app_context():
        with db.transaction() as session:
            account = session.scalars(select(Account).where(Account.name == "Bench")
                                      .order_by(Account.id.desc())).first()
            assert account is not None, "no history of an earlier run to reuse"
            held = session.scalar(select(func.count()).where(Message.account_id == account.id))
            assert held == messages, f"the earlier run loaded {held:,} messages, not {messages:,}"
            _, key = mint_key(session, account, label="bench")
    return {"Authorization": f"Bearer {key}"}


def timed(client, path: str, headers: dict, runs: int) -> tuple[float, bytes]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, response.data[:500]
    return statistics.median(samples), response.data


def sign_in(client, key: str) -> None:
    """A dashboard session for the bench account, as a browser gets one."""
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/dashboard/sign-in", data={"api_key": key, "csrf_token": token}).status_code == 302


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres")
    parser.add_argument("--reuse", action="store_true", help="time the history an earlier run left in --postgres")
    args = parser.parse_args()
    if args.reuse and not args.postgres:
        parser.error("--reuse needs --postgres (a SQLite run's database is gone with its folder)")
    folder = Path(tempfile.mkdtemp(prefix="reengage-bench-metrics-"))
    os.chdir(folder)
    from app import create_app
    from reengage.platform import db
    from reengage.results import metrics

    overrides = {"DATABASE_URL": args.postgres, "SECRET_KEY": "bench"} if args.postgres else {}
    app = create_app({**overrides, "CLOCK_IN_PROCESS": False, "JOBS_INLINE": True, "RATE_LIMIT": "1000000 per minute"})
    if args.postgres:
        with app.app_context():
            db.upgrade(app.config["DATABASE_URL"])
    client = app.test_client()
    began = time.perf_counter()
    headers = reused(app, args.messages) if args.reuse else load(app, client, args.messages)
    print(f"{'reused' if args.reuse else 'loaded'} {args.messages:,} messages in {time.perf_counter() - began:.0f} s "
          f"({'PostgreSQL' if args.postgres else 'SQLite'})")
    # The loaded history reads as the write paths would leave it: tallies and credits match the messages.
    [tallied] = client.get("/v1/metrics", headers=headers).json
    [counted] = client.get("/v1/metrics?group_by=channel", headers=headers).json
    assert tallied["messages_sent"] == counted["messages_sent"] == args.messages
    assert counted["recovered"] == tallied["recovered"] == args.messages // PER_DROPOFF // 4
    sign_in(client, headers["Authorization"].removeprefix("Bearer "))
    baseline, _ = timed(client, "/v1/me", headers, args.runs * 4)
    print(f"baseline GET /v1/me: {baseline * 1000:.2f} ms")
    for path in QUERIES:
        target = 1.5 if path.startswith("/dashboard") else 1.0
        before, scanned = "", 0.0
        if path in ROLLED:
            metrics.ROLLUPS = False
            scanned, scan_answer = timed(client, path, headers, args.runs)
            metrics.ROLLUPS = True
            before = f"before {scanned * 1000:.0f} ms ({scanned / baseline:.0f}x baseline), after "
        seconds, answer = timed(client, path, headers, args.runs)
        if path in ROLLED and not path.startswith("/dashboard"):
            assert answer == scan_answer, path
        verdict = "met" if seconds < target else "NOT met"
        speedup = f"; {scanned / seconds:.1f}x faster" if before else ""
        print(f"GET {path}: {before}{seconds * 1000:.0f} ms ({seconds / baseline:.0f}x baseline{speedup}; "
              f"target < {target:g} s: {verdict})")
        scoreboard.record("metrics", f"GET {path.replace(PERIOD, 'a period')} (seconds)", seconds,
                          backend="postgresql" if args.postgres else "sqlite",
                          size=f"{args.messages:,} messages", target=f"< {target:g} s", met=seconds < target)


if __name__ == "__main__":
    main()
