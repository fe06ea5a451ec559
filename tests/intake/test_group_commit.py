"""Group commit: single events are not written in one transaction with another request's large batch."""

import threading
import time

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
