"""Concurrent batches naming the same new contacts, from several server processes at once."""

import random
import threading
from collections import Counter

from sqlalchemy import func, select

from app import create_app
from reengage.models import Event
from reengage.platform import db
from tests.support import settings

PEOPLE = [f"person-{n}" for n in range(60)]
WORKERS, ROUNDS, SIZE = 4, 5, 40


def batches(worker: int) -> list[dict]:
    """Each worker's batches: overlapping people in its own order, its own fields, and events others send too."""
    rng = random.Random(worker)
    out = []
    for round_ in range(ROUNDS):
        chosen = rng.sample(PEOPLE, SIZE)
        events = [{"id": f"w{worker}-r{round_}-{person}", "type": "application_started",
                   "contact": {"external_id": person, "email": f"{person}@example.com", "first_name": f"W{worker}",
                               "properties": {f"w{worker}": round_}}}
                  for person in chosen]
        events += [{"id": f"shared-r{round_}-{person}", "type": "application_started",
                    "contact": {"external_id": person, "email": f"{person}@example.com"}} for person in chosen[:10]]
        out.append({"events": events})
    return out


def test_concurrent_batches_of_overlapping_new_contacts_are_all_answered_and_stored_once(app, acme):
    # Each app is a server process of its own: its own connections, its own group commit.
    apps = [app] + [create_app(settings(app.config["DATABASE_URL"])) for _ in range(WORKERS - 1)]
    start = threading.Barrier(WORKERS)
    answers: list[tuple[int, dict]] = []

    def post(worker: int) -> None:
        client = apps[worker].test_client()
        start.wait()
        for body in batches(worker):
            response = client.post("/v1/events", json=body, headers=acme.headers)
            answers.append((response.status_code, response.json))

    threads = [threading.Thread(target=post, args=(worker,)) for worker in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert [status for status, _ in answers] == [200] * WORKERS * ROUNDS, [body for _, body in answers]
    client = app.test_client()
    ids = {}
    for person in PEOPLE:
        found = client.get(f"/v1/contacts?external_id={person}", headers=acme.headers).json
        assert len(found) == 1 and found[0]["email"] == f"{person}@example.com"
        ids[person] = found[0]["id"]
    assert len(set(ids.values())) == len(PEOPLE)
    created = Counter()
    for _, body in answers:
        for result in body["events"]:
            person = result["id"].rsplit("-", 2)[-2] + "-" + result["id"].rsplit("-", 1)[-1]
            assert result["contact_id"] == ids[person]
            created[result["id"]] += result["status"] == "created"
    assert all(count == 1 for count in created.values())  # each event stored once, the others answered replayed
    with app.app_context():
        stored = db.session().scalar(select(func.count()).select_from(Event))
        unprocessed = db.session().scalar(select(func.count()).where(Event.processed_at.is_(None)))
    assert unprocessed == 0  # processing (run inline here) met no deadlock either
    assert stored == len(created) == WORKERS * ROUNDS * SIZE + len({key for key in created if key.startswith("shared")})
