"""Frames from the event trail agree with the log's own replay, whatever the way in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pendulum
import pytest

from servicedelivery import metrics
from servicedelivery.errors import ValidationError
from servicedelivery.eventlog import (
    InMemoryEventLog,
    MilestoneBlocked,
    MilestoneCompleted,
    MilestonePlanned,
    MilestoneStarted,
    MilestoneUnblocked,
    NewEvent,
    SQLiteEventLog,
)
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE
from servicedelivery.metrics import EventFrame
from servicedelivery.model import DEFAULT_TAXONOMY, Owner, Taxonomy, to_epoch_ns
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail

NOW = pendulum.datetime(2026, 1, 5, 9, tz="UTC")


@pytest.fixture(scope="module")
def log() -> InMemoryEventLog:
    portfolio = synthetic_portfolio(orders=80, seed=4)
    trail = InMemoryEventLog()
    for stream_id, events in synthetic_trail(portfolio, seed=4):
        trail.append(stream_id, events)
    return trail


def same(first: EventFrame, second: EventFrame) -> None:
    for name in ("items", "item", "time", "state", "owner", "reason", "position", "event_id"):
        assert getattr(first, name).tolist() == getattr(second, name).tolist(), name
    assert list(first.attributes) == list(second.attributes)
    for name in first.attributes:
        assert (
            first.item_attributes[name].labels().tolist()
            == second.item_attributes[name].labels().tolist()
        )


def test_from_log_and_from_events_build_the_same_frame(log: InMemoryEventLog) -> None:
    from_log = EventFrame.from_log(log)
    same(from_log, EventFrame.from_events(log.read_all()))
    assert {"order_id", "step"} <= set(from_log.attributes)
    milestones = {r.stream_id for r in log.read_all() if r.stream_id.startswith("milestone:")}
    assert from_log.item_count == len(milestones)


def test_the_frame_ends_where_the_logs_replay_does(log: InMemoryEventLog) -> None:
    frame = EventFrame.from_log(log)
    at = to_epoch_ns(NOW)
    for as_of in (None, at - 90 * 86_400 * 10**9):
        view = log.portfolio(as_of=as_of)
        found = metrics.episodes(frame, now=at if as_of is None else as_of)
        last = found.offsets[1:] - 1
        ids = found.frame.items.tolist()
        assert sorted(ids) == sorted(view.items.tolist())
        rows = [view.row(item) for item in ids]
        assert found.state[last].tolist() == view.category[rows].tolist()
        assert found.owner[last].tolist() == view.owner[rows].tolist()
        assert found.reason[last].tolist() == view.reason[rows].tolist()
        assert found.start[found.offsets[:-1]].tolist() == view.planned_ns[rows].tolist()
    # Each row's evidence is its record in the log.
    by_position = {record.position: record for record in log.read_all()}
    for position, event_id in zip(frame.position[:50], frame.event_id[:50], strict=True):  # type: ignore[index]
        assert by_position[int(position)].event_id == event_id


def test_an_sqlite_log_gives_the_same_frame(log: InMemoryEventLog, tmp_path: Path) -> None:
    stored = SQLiteEventLog(tmp_path / "trail.sqlite")
    try:
        for stream_id in dict.fromkeys(r.stream_id for r in log.read_all()):
            records = log.read_stream(stream_id)
            stored.append(
                stream_id,
                [
                    NewEvent(r.event, occurred_at=r.occurred_at, event_id=r.event_id)
                    for r in records
                ],
            )
        first, second = EventFrame.from_log(log), EventFrame.from_log(stored)
        for name in ("items", "time", "state", "owner", "reason", "event_id"):
            assert getattr(first, name).tolist() == getattr(second, name).tolist(), name
    finally:
        stored.close()


def test_a_small_trail_measured_by_hand() -> None:
    log = InMemoryEventLog()
    day = pendulum.duration(days=1)
    start = pendulum.datetime(2025, 3, 3, 9, tz="Europe/Paris")
    log.append(
        "milestone:M-1",
        [
            NewEvent(
                MilestonePlanned(
                    order_id="O-1", step="installation", attributes={"provider": "fjord_net"}
                ),
                occurred_at=start,
            ),
            NewEvent(MilestoneStarted(), occurred_at=start + day),
            NewEvent(
                MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER),
                occurred_at=start + 2 * day,
            ),
            NewEvent(MilestoneUnblocked(), occurred_at=start + 5 * day),
            NewEvent(MilestoneCompleted(), occurred_at=start + 6 * day),
        ],
    )
    frame = EventFrame.from_log(log)
    assert frame.items.tolist() == ["M-1"]
    assert frame.item_attributes["provider"].labels().tolist() == ["fjord_net"]
    blocked = metrics.time_in_state(
        frame, now=to_epoch_ns(start + 6 * day), states=["blocked"], by=["owner"]
    )
    assert blocked.duration.tolist() == [3 * 86_400 * 10**9]
    assert blocked.to_pandas()["owner"].tolist() == ["customer"]
    assert metrics.cycle_time(frame).duration.tolist() == [5 * 86_400 * 10**9]
    assert metrics.lead_time(frame).duration.tolist() == [6 * 86_400 * 10**9]
    assert metrics.summarize(frame, by=["provider"], percentiles=[50]).count.tolist() == [1]


def test_the_vocabularies_must_be_the_logs(log: InMemoryEventLog) -> None:
    columns = log.read_columns()
    other = Taxonomy(DEFAULT_TAXONOMY.reasons[:3])
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_event_columns(columns, taxonomy=other)
    assert [e.path for e in caught.value.errors] == ["taxonomy"]
    with pytest.raises(ValidationError):
        EventFrame.from_log(log, attributes=["colour"])
    with pytest.raises(ValidationError):
        EventFrame.from_events(log.read_all(), attributes=["colour"])
    assert DEFAULT_LIFECYCLE.trigger_names == tuple(columns.triggers)
    assert len(EventFrame.from_events([])) == 0
    assert np.array_equal(
        EventFrame.from_log(log, attributes=["step"]).attributes["step"].categories,
        EventFrame.from_log(log).attributes["step"].categories,
    )
