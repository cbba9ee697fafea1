"""What only the in-memory backend promises: a refused append leaves its state exactly as it was."""

from __future__ import annotations

import copy
import gc
from collections.abc import Callable
from typing import Any

import pendulum
import pytest

from servicedelivery.eventlog import (
    NO_TARGET,
    EventLog,
    InMemoryEventLog,
    MilestonePlanned,
    MilestoneStarted,
    NewEvent,
    RecordedEvent,
    StoredRecord,
)
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail
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


class RowsLog(InMemoryEventLog):
    """Given its records as rows, as a host backend is: the slow form of the columns appends give."""

    def _insert_many(self, writes: Any) -> None:
        rows = [([*records], attributes, head) for records, attributes, head in writes]
        assert all(type(record) is StoredRecord for records, _, _ in rows for record in records)
        super()._insert_many(rows)


def test_records_as_columns_are_stored_as_records_as_rows() -> None:
    portfolio = synthetic_portfolio(orders=12, seed=4)
    batches = synthetic_trail(portfolio, seed=4)
    logs = [InMemoryEventLog(clock=ManualClock()), RowsLog(clock=ManualClock())]
    for log in logs:
        for stream_id, events in batches[:30]:
            log.append(stream_id, events)
        log.append_many(batches[30:])
    (columns, rows) = (dump(log) for log in logs)
    assert columns == rows
    assert logs[0].read_all() == logs[1].read_all()
    assert logs[0].head() == sum(len(events) for _, events in batches)
    # The columnar facts, record by record, the obvious way.
    log = logs[0]
    code = {None: -1, **{name: index for index, name in enumerate(log._names)}}
    assert log._facts == [
        (
            r.position,
            r.occurred_ns,
            r.recorded_ns,
            int(r.override),
            code[r.stream_id],
            code[r.type],
            code[r.trigger],
            code[r.owner],
            code[r.reason],
            NO_TARGET if r.target_ns is None else r.target_ns,
            -1 if r.sequence is None else r.sequence,
        )
        for r in log._select_all(0, None)
    ]
    assert log._event_ids == [r.event_id for r in log._select_all(0, None)]
    assert [(p, log._names[k], log._names[v]) for p, k, v in log._attribute_rows] == (
        log._select_attributes(1, log.head())
    )
