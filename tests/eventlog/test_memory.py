"""What only the in-memory backend promises: a refused append leaves its state exactly as it was."""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable
from typing import Any

import pendulum
import pytest

from servicedelivery.eventlog import (
    EventLog,
    InMemoryEventLog,
    MilestonePlanned,
    MilestoneStarted,
    NewEvent,
    RecordedEvent,
)
from servicedelivery.testing import ManualClock
from tests.eventlog.bad_appends import BAD_APPENDS, act_after, fill


def dump(log: InMemoryEventLog) -> dict[str, Any]:
    """Every piece of the log's state (not its lock and options), deeply copied."""
    options = ("_lock", "_clock", "_lifecycle", "_taxonomy", "_registry")
    return copy.deepcopy({k: v for k, v in vars(log).items() if k not in options})


@pytest.mark.parametrize(
    ("label", "error", "act"), BAD_APPENDS, ids=[label for label, *_ in BAD_APPENDS]
)
def test_a_refused_append_leaves_the_state_unchanged(
    label: str, error: type[Exception], act: Callable[[EventLog], object]
) -> None:
    log = InMemoryEventLog(clock=ManualClock())
    fill(log)
    before = dump(log)
    with pytest.raises(error):
        act(log)
    assert dump(log) == before, label
    act_after(log)
    assert log.head() == 4


def test_a_thread_waits_for_another_threads_append() -> None:
    import threading

    log = InMemoryEventLog(clock=ManualClock())
    fill(log)
    with log._write():
        done = threading.Event()
        thread = threading.Thread(target=lambda: (act_after(log), done.set()))
        thread.start()
        assert not done.wait(0.2)
        assert log.head() == 3
    thread.join(5)
    assert done.is_set()
    assert log.head() == 4


def test_stored_records_leave_the_garbage_collectors_care() -> None:
    # Plain tuples of strings and numbers are untracked at the first collection that sees them;
    # a tuple subclass would be walked by every full collection for the log's lifetime.
    log = InMemoryEventLog()
    at = pendulum.datetime(2025, 1, 6, 9, tz="Europe/Paris")
    log.append(
        "milestone:M-1",
        [
            NewEvent(MilestonePlanned(order_id="O-1", step="survey"), occurred_at=at),
            NewEvent(MilestoneStarted(), occurred_at=at),
        ],
    )
    gc.collect()
    assert not any(map(gc.is_tracked, log._records))
    assert [type(r) for r in log.read_all()] == [RecordedEvent, RecordedEvent]
