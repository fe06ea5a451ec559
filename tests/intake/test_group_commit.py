"""Group commit: single events are not written in one transaction with another request's large batch, and a group
takes in what arrives while it waits for its turn on the database."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from reengage.intake.group_commit import GroupCommit, Submission


def test_small_and_large_submissions_are_written_in_groups_of_their_own():
    groups: list[list[str]] = []
    release = threading.Event()

    def store(works: list[str]) -> tuple[list[str], list[int]]:
        if not groups:
            release.wait(5)  # the first write is slow: the others queue behind it meanwhile
        groups.append(works)
        return works, []

    committer = GroupCommit(store, lambda _ids: None)
    threads = []
    for name, size in (("first", 1), ("batch", 1000), ("single-1", 1), ("single-2", 1)):
        thread = threading.Thread(target=committer.submit, args=(Submission(name, size),))
        thread.start()
        threads.append(thread)
        time.sleep(0.1)
    release.set()
    for thread in threads:
        thread.join(5)
    assert sorted(groups) == sorted([["first"], ["batch"], ["single-1", "single-2"]])


def test_submissions_that_arrive_while_the_leader_waits_for_its_turn_are_written_with_it():
    groups: list[list[str]] = []
    waiting, free = threading.Event(), threading.Event()

    @contextmanager
    def turn(_small: bool) -> Iterator[None]:
        waiting.set()
        free.wait(5)  # another process holds the database's write lock meanwhile
        yield

    def store(works: list[str]) -> tuple[list[str], list[int]]:
        groups.append(works)
        return works, []

    committer = GroupCommit(store, lambda _ids: None, turn=turn)
    threads = [threading.Thread(target=committer.submit, args=(Submission("leader", 1),))]
    threads[0].start()
    assert waiting.wait(5)
    for name in ("second", "third"):
        threads.append(threading.Thread(target=committer.submit, args=(Submission(name, 1),)))
        threads[-1].start()
    deadline = time.monotonic() + 5
    while len(committer._pending) < 3 and time.monotonic() < deadline:  # all three wait for the write
        time.sleep(0.01)
    free.set()
    for thread in threads:
        thread.join(5)
    assert groups == [["leader", "second", "third"]]


def test_a_turn_that_fails_fails_the_group_it_was_for_and_wakes_it():
    @contextmanager
    def turn(_small: bool) -> Iterator[None]:
        raise OSError("the lock file is gone")
        yield

    committer = GroupCommit(lambda works: (works, []), lambda _ids: None, turn=turn)
    submission = Submission("alone", 1)
    with pytest.raises(OSError, match="lock file"):
        committer.submit(submission)
    assert submission.finished and not committer._pending
