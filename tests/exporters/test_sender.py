"""The network sinks' sender: sends run in order off the writer thread; a failure is logged once; when the
service cannot keep up, the oldest queued sends are dropped and that is said once."""

from __future__ import annotations

import logging
import threading

import pytest

from tests.fakes.wait import wait_for
from wattprint.exporters._sender import Sender


def test_sends_run_in_order_and_the_oldest_are_dropped_when_it_cannot_keep_up(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="wattprint")
    sender = Sender("test-sender", max_pending=2)
    release, started = threading.Event(), threading.Event()
    done: list[int] = []

    def blocked() -> None:
        started.set()
        release.wait(30)
        done.append(0)

    sender.submit(blocked)
    assert started.wait(30)  # the first send is in progress: the next ones queue
    for number in range(1, 5):
        sender.submit(lambda number=number: done.append(number))
    release.set()
    assert sender.drain(30)
    assert done == [0, 3, 4]  # two queued at most: 1 and 2 were dropped
    messages = [r.getMessage() for r in caplog.records]
    assert sum("test-sender sink cannot keep up" in m for m in messages) == 1


def test_a_failing_send_is_logged_once_and_the_next_still_runs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="wattprint")
    sender = Sender("test-sender")
    done: list[str] = []

    def failing() -> None:
        raise ConnectionError("the service is down")

    for send in (failing, failing, lambda: done.append("sent")):
        sender.submit(send)
    assert sender.drain(30) and done == ["sent"]
    failures = [r.getMessage() for r in caplog.records if "could not write a run" in r.getMessage()]
    assert len(failures) == 1 and "the service is down" in failures[0]
    wait_for(lambda: not [t for t in threading.enumerate() if t.name == "wattprint-test-sender"],
             "the idle sender's thread to end", timeout=30)
