"""Verdicts depend on when events happened, never on the order they arrive or are processed in.

Each generated journey is lived twice on one timeline, by two contacts: one whose events arrive as
they happen, one whose events each arrive after a delay (so in another order, and after the clock
has passed deadlines). Once the clock is past everything, both must have the same dropoffs (rule, match
value, status, category, start, deadline, recovery). A retracted dropoff is a false alarm, the same
verdict as none. The engagement level in a dropoff's segment (and the intent it raises) counts the
events known when the dropoff was raised, so it is not compared.
"""

import itertools
import os
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from reengage.jobs import clock
from tests.support import event
from tests.support.detection import T, send

MINUTE = timedelta(minutes=1)
# One rule of every kind (and one of each kind with a grace, given one), each reading its own event names so that
# journeys of one rule meet only it.
RULES = {
    "inactivity": ({"start_events": ["i.start"], "goal_events": ["i.goal"], "wait": "PT1H", "match_key": "app"},
                   ["i.start", "i.goal"]),
    "failure_end_state": ({"error_events": {"f.auth": "auth", "f.mfa": "mfa"}, "success_events": ["f.ok"],
                           "settle": "PT30M"}, ["f.auth", "f.mfa", "f.ok"]),
    "repeated_attempts": ({"attempt_events": ["r.try"], "success_events": ["r.ok"], "min_attempts": 2,
                           "window": "PT2H", "settle": "PT30M"}, ["r.try", "r.ok"]),
    "abandoned_session": ({"close_events": ["a.close"], "steps": ["a.s1", "a.s2", "a.s3"], "success_events": ["a.ok"],
                           "unless_events": ["a.err"], "session": "PT2H", "settle": "PT30M"},
                          ["a.close", "a.s1", "a.s3", "a.ok", "a.err"]),
    "low_engagement": ({"start_events": ["l.start"], "qualifying_events": ["l.use"], "min_events": 2,
                        "window": "PT2H"}, ["l.start", "l.use"]),
    "closed_lost": ({"deal_events": ["c.lost"], "won_events": ["c.won"]}, ["c.lost", "c.won"]),
    # The kinds with a grace for late goals (`settle`), given one.
    "inactivity_settled": ({"start_events": ["is.start"], "goal_events": ["is.goal"], "wait": "PT1H",
                            "match_key": "app", "settle": "PT20M"}, ["is.start", "is.goal"]),
    "low_engagement_settled": ({"start_events": ["ls.start"], "qualifying_events": ["ls.use"], "min_events": 2,
                                "window": "PT2H", "settle": "PT20M"}, ["ls.start", "ls.use"]),
    "closed_lost_settled": ({"deal_events": ["cs.lost"], "won_events": ["cs.won"], "settle": "PT20M"},
                            ["cs.lost", "cs.won"]),
}
SETTLED_SUFFIX = "_settled"
# Every journey gets its own stretch of the timeline; the clock ends each one well past its last deadline. The
# timeline starts years back, so thousands of stretches (ARRIVAL_EXAMPLES=5000) end before now: an event more
# than a day ahead of now is refused.
STRETCH, SETTLED = timedelta(hours=13), timedelta(hours=12)
START = datetime(2016, 1, 4, 9, 0, tzinfo=UTC)
examples = itertools.count()


def journeys():
    """A rule kind, its events (type, minute it happened, match value), and how late each one arrives."""
    def of_kind(kind):
        names = RULES[kind][1]
        event = st.tuples(st.sampled_from(names), st.integers(0, 36).map(lambda n: n * 5), st.sampled_from(["", "x"]))
        return st.lists(event, min_size=1, max_size=6).flatmap(lambda events: st.tuples(
            st.just(kind), st.just(events), st.lists(st.integers(0, 60).map(lambda n: n * 5), min_size=len(events),
                                                     max_size=len(events))))
    return st.sampled_from(sorted(RULES)).flatmap(of_kind)


def add_rules(client, tenant):
    for name, (params, _) in RULES.items():
        body = {"key": f"p_{name}", "scenario": "sales.application_abandoned",
                "kind": name.removesuffix(SETTLED_SUFFIX), "params": params}
        response = client.post("/v1/rules", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.json


def verdicts(client, tenant, contact_id, base):
    def since(moment):
        return None if moment is None else (_parse(moment) - base) // MINUTE
    found = client.get(f"/v1/dropoffs?contact_id={contact_id}&limit=100", headers=tenant.headers).json
    return sorted((d["rule"], d["match_value"], d["status"], d["category"], since(d["started_at"]),
                   since(d["occurred_at"]), since(d["recovered_at"]))
                  for d in found if d["status"] != "retracted")


def _parse(moment):
    return datetime.fromisoformat(moment)


# Without shrinking (each example is a dozen requests): a failure names its journey in the assertion.
@settings(max_examples=int(os.environ.get("ARRIVAL_EXAMPLES", "40")), deadline=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(journey=journeys())
# A deal won and lost again in the same minute, the loss arriving last of all.
@example(journey=("closed_lost", [("c.lost", 165, "x"), ("c.lost", 5, ""), ("c.won", 110, "x"), ("c.lost", 110, "")],
                  [215, 85, 120, 285]))
# A start within the grace of the watch before it (due at 185), which arrives after the clock raised that watch.
@example(journey=("inactivity_settled", [("is.start", 105, ""), ("is.start", 175, "")], [100, 0]))
# A goal after the deadline (60), within the grace (due at 80): in time it raises the watch and recovers it at once.
@example(journey=("inactivity_settled", [("is.start", 0, ""), ("is.goal", 70, "")], [0, 30]))
# A window ended without a dropoff when due (140, its deadline 120 plus the grace), and a start within the grace that
# arrives after: in time it found the window still open and opened none of its own.
@example(journey=("low_engagement_settled", [("ls.start", 0, ""), ("ls.use", 10, ""), ("ls.use", 20, ""),
                                             ("ls.start", 130, "")], [0, 0, 0, 30]))
# The same, the window's second use arriving after the clock raised it: judged again, the window ends when due.
@example(journey=("low_engagement_settled", [("ls.start", 0, ""), ("ls.use", 10, ""), ("ls.use", 20, ""),
                                             ("ls.start", 130, "")], [0, 0, 130, 30]))
def test_shuffled_and_delayed_arrival_gives_the_verdicts_of_arrival_in_order(app, client, acme, journey):
    kind, events, delays = journey
    n = next(examples)
    if n == 0 or not client.get(f"/v1/rules/p_{kind}", headers=acme.headers).status_code == 200:
        add_rules(client, acme)
    base = START + n * STRETCH
    arrivals = []
    for index, ((_, minute, _), delay) in enumerate(zip(events, delays, strict=True)):
        arrivals.append((minute, 0, index, "ordered"))
        arrivals.append((minute + delay, 1, index, "shuffled"))
    ids = {}
    for arrival, _, index, who in sorted(arrivals):
        clock.tick(app, at=base + arrival * MINUTE)
        type_, minute, match = events[index]
        properties = {"app": match, "deal_id": match} if match else {}
        answer = send(client, acme, f"{n}-{who}-{index}", type_, base - T + minute * MINUTE,
                      contact={"external_id": f"{who}-{n}"}, properties=properties)
        ids[who] = answer["contact_id"]
    clock.tick(app, at=base + SETTLED)
    assert verdicts(client, acme, ids["shuffled"], base) == verdicts(client, acme, ids["ordered"], base), (
        kind, events, delays)


def crowded_journeys():
    """A rule kind and its events (type, minute it happened, match value), most of them sharing a minute."""
    def of_kind(kind):
        event = st.tuples(st.sampled_from(RULES[kind][1]), st.sampled_from([0, 0, 5, 40]), st.sampled_from(["", "x"]))
        return st.tuples(st.just(kind), st.lists(event, min_size=2, max_size=8))
    return st.sampled_from(sorted(RULES)).flatmap(of_kind)


@settings(max_examples=int(os.environ.get("ARRIVAL_EXAMPLES", "40")), deadline=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(journey=crowded_journeys())
# A start, its goal and a start again in one instant: the goal of that instant reaches both starts.
@example(journey=("inactivity", [("i.start", 0, "x"), ("i.goal", 0, "x"), ("i.start", 0, "x")]))
# An error, then another after the first one's settle ran out: two watches, the first due when the second came.
@example(journey=("failure_end_state", [("f.mfa", 5, ""), ("f.mfa", 40, "")]))
# The same, with a success of the second error's instant before and after another error of it.
@example(journey=("failure_end_state", [("f.mfa", 40, "x"), ("f.ok", 40, ""), ("f.auth", 40, ""), ("f.ok", 40, "x"),
                                        ("f.mfa", 5, "")]))
def test_a_batch_gets_the_verdicts_of_its_events_arriving_one_at_a_time_as_they_happened(app, client, acme, journey):
    # One at a time, with the clock ticking as they happen, an event of the same minute as one processed before it
    # is late (the contact is judged again from its events in order), and a watch due before an event has been
    # ended by the clock. One batch takes its events in that order: nothing in it is late, and a watch due before
    # one of its events ends there.
    kind, events = journey
    n = next(examples)
    if n == 0 or not client.get(f"/v1/rules/p_{kind}", headers=acme.headers).status_code == 200:
        add_rules(client, acme)
    base = START + n * STRETCH
    clock.tick(app, at=base)
    posted = {who: [event(f"{n}-{who}-{index:02d}", type=type_, occurred_at=(base + minute * MINUTE).isoformat(),
                          contact={"external_id": f"{who}-{n}"},
                          properties={"app": match, "deal_id": match} if match else {})
                    for index, (type_, minute, match) in enumerate(events)]
              for who in ("single", "batch")}
    ids = {}
    for body in sorted(posted["single"], key=lambda body: (body["occurred_at"], body["id"])):
        clock.tick(app, at=datetime.fromisoformat(body["occurred_at"]))
        response = client.post("/v1/events", json=body, headers=acme.headers)
        assert response.status_code == 200, response.json
        ids["single"] = response.json["contact_id"]
    response = client.post("/v1/events", json={"events": posted["batch"]}, headers=acme.headers)
    assert response.status_code == 200, response.json
    ids["batch"] = response.json["events"][0]["contact_id"]
    clock.tick(app, at=base + SETTLED)
    assert verdicts(client, acme, ids["batch"], base) == verdicts(client, acme, ids["single"], base), (kind, events)
