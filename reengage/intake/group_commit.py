"""Group commit: the concurrent requests of one process share one transaction.

The first request to submit leads: it writes everything pending in one transaction (so the
commit and its round trips are shared), then hands the lead to a request still waiting.
Requests that have arrived but are still being validated are about to submit, so a leader
waits a moment for them; a request that arrives alone never waits. Where writers take turns on
a lock (SQLite's), the leader takes its group once it holds the lock: the requests that arrived
while it waited for its turn are written with it, so the busier the database, the more each
transaction carries. A shared transaction that fails is split, and each request is written on
its own, so one caller's bad data never fails another caller's request.
"""

import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

# A leader stops adding small requests to its transaction past this many items.
GROUP_ITEMS = 2000
# Submissions of at most this many items are never grouped with larger ones: a single event does not wait
# for another account's batch to be written with it, and when both kinds wait, they take turns.
SMALL_ITEMS = 50
# A group of larger submissions holds at most this many items (intake splits batches into chunks of this size),
# so that no transaction holds the database's write lock for long.
LARGE_GROUP_ITEMS = 100
# How long a leader waits for requests that are already being validated to join its group.
GROUP_WAIT_SECONDS = 0.002


@dataclass(eq=False)
class Arrival:
    """A request between its arrival and its submission (or its failure)."""

    waiting: bool = True


@dataclass(eq=False)
class Submission:
    """One request's work (`size` items of it), waiting to be written."""

    work: Any
    size: int
    woken: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    result: Any = None
    error: BaseException | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


# Writes the works of a group in one transaction: their results, in order, and a follow-up.
Store = Callable[[list[Any]], tuple[list[Any], list[Any]]]


class GroupCommit:
    """Writes the submissions of one process's concurrent requests in shared transactions."""

    def __init__(self, store: Store, then: Callable[[list[Any]], None],
                 large_items: Callable[[], int] = lambda: LARGE_GROUP_ITEMS,
                 turn: Callable[[bool], AbstractContextManager[Any]] = lambda _small: nullcontext()):
        self.store = store
        self.then = then
        # How many items a group of larger submissions holds at most, asked as each group is taken.
        self.large_items = large_items
        # The turn a group of small (True) or larger submissions waits for before it is taken and stored: the
        # database's write lock, where writers take turns on one.
        self.turn = turn
        self._lock = threading.Condition()
        self._pending: deque[Submission] = deque()
        self._leading = False
        self._arriving = 0
        self._took_small = False

    def arrive(self) -> Arrival:
        """Count a request that is on its way to `submit`."""
        with self._lock:
            self._arriving += 1
        return Arrival()

    def leave(self, token: Arrival) -> None:
        """Stop counting `token` (a request that failed before it submitted)."""
        with self._lock:
            self._depart(token)

    def submit(self, submission: Submission, token: Arrival | None = None) -> Any:
        """Write `submission` (leading a group, or waiting for the leader) and answer for it."""
        with self._lock:
            self._pending.append(submission)
            self._depart(token)
            lead = not self._leading
            self._leading = True
        if not lead:
            submission.woken.wait()
            if submission.finished:
                return submission.outcome()
        # Leading: write groups until our own is done, then pass the lead to a waiting request.
        try:
            while not submission.finished:
                self.write(self._next_kind())
        finally:
            with self._lock:
                if self._pending:
                    self._pending[0].woken.set()
                else:
                    self._leading = False
        return submission.outcome()

    def write(self, small: bool) -> None:
        """Once it is their turn, take the pending submissions of one kind (`small` or larger) and write them in one
        transaction, or each alone when that fails; wake them all."""
        group: list[Submission] = []
        try:
            try:
                with self.turn(small):
                    group = self._take(small)
                    results, follow_up = self.store([submission.work for submission in group])
                    for submission, result in zip(group, results, strict=True):
                        submission.result = result
            except Exception:
                if not group:  # the turn itself failed: the group fails with it
                    group = self._take(small)
                    raise
                if len(group) == 1:
                    raise
                follow_up = []
                for submission in group:
                    follow_up.extend(self._write_alone(submission))
            if follow_up:
                self.then(follow_up)
        except Exception as error:
            for submission in group:
                if submission.result is None and submission.error is None:
                    submission.error = error
        finally:
            for submission in group:
                submission.finished = True
                submission.woken.set()

    def _write_alone(self, submission: Submission) -> list[Any]:
        try:
            (submission.result,), follow_up = self.store([submission.work])
        except Exception as error:
            submission.error = error
            return []
        return follow_up

    def _depart(self, token: Arrival | None) -> None:
        if token is not None and token.waiting:
            token.waiting = False
            self._arriving -= 1
            self._lock.notify_all()

    def _next_kind(self) -> bool:
        """Whether the next group is of small submissions, once those being validated have joined (a moment)."""
        with self._lock:
            self._lock.wait_for(lambda: self._arriving == 0, timeout=GROUP_WAIT_SECONDS)
            small = [submission.size <= SMALL_ITEMS for submission in self._pending]
            # Small and large submissions are written in groups of their own, taking turns when both wait.
            kind = small[0] if all(small) or not any(small) else not self._took_small
            self._took_small = kind
        return kind

    def _take(self, small: bool) -> list[Submission]:
        """The pending submissions of the kind, up to a group's size, in the order they came."""
        with self._lock:
            group: list[Submission] = []
            size, most = 0, GROUP_ITEMS if small else self.large_items()
            for submission in list(self._pending):
                if (submission.size <= SMALL_ITEMS) == small and (not group or size + submission.size <= most):
                    group.append(submission)
                    size += submission.size
                    self._pending.remove(submission)
        return group
