"""A log checks and replays milestones with an organization's own lifecycle."""

from __future__ import annotations

import pendulum
import pytest

from servicedelivery.errors import InvalidTransition, ValidationError
from servicedelivery.eventlog import (
    InMemoryEventLog,
    MilestoneBlocked,
    MilestonePlanned,
    MilestoneStarted,
    MilestoneTransitioned,
    NewEvent,
    SQLiteEventLog,
    replay,
)
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.model import MilestoneState, Owner

WITH_ACCEPTANCE = Lifecycle.from_data(
    {
        "extends": "default",
        "name": "with_acceptance",
        "states": [{"name": "awaiting_acceptance", "category": "in_progress"}],
        "transitions": [
            {"trigger": "submit", "sources": "in_progress", "dest": "awaiting_acceptance"},
            {"trigger": "accept", "sources": "awaiting_acceptance", "dest": "done"},
            {"trigger": "refuse", "sources": "awaiting_acceptance", "dest": "in_progress"},
        ],
    }
)
T0 = pendulum.datetime(2024, 3, 4, 9, tz="Europe/Paris")


def new(event: object, minutes: int) -> NewEvent:
    return NewEvent(event, occurred_at=T0.add(minutes=minutes))  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_custom_triggers_are_checked_and_replayed(backend: str, tmp_path: object) -> None:
    log = (
        InMemoryEventLog(lifecycle=WITH_ACCEPTANCE)
        if backend == "memory"
        else SQLiteEventLog(f"{tmp_path}/trail.db", lifecycle=WITH_ACCEPTANCE)
    )
    plan = MilestonePlanned(order_id="O-1", step="acceptance_test")
    log.append("milestone:M-1", [new(plan, 0), new(MilestoneStarted(), 1)])
    log.append("milestone:M-2", [new(plan, 0), new(MilestoneStarted(), 1)])
    with pytest.raises(InvalidTransition) as caught:
        log.append("milestone:M-1", [new(MilestoneTransitioned(trigger="accept"), 2)])
    assert caught.value.state == "in_progress"
    log.append("milestone:M-1", [new(MilestoneTransitioned(trigger="submit", note="sent"), 2)])
    log.append("milestone:M-2", [new(MilestoneTransitioned(trigger="submit"), 3)])
    log.append("milestone:M-2", [new(MilestoneTransitioned(trigger="accept"), 4)])
    view = log.portfolio()
    waiting, accepted = view.milestone("M-1"), view.milestone("M-2")
    assert (waiting.state, waiting.status) == (MilestoneState.IN_PROGRESS, "awaiting_acceptance")
    assert (accepted.state, accepted.status) == (MilestoneState.DONE, None)
    assert view.since_position[view.row("M-1")] == 5
    columns = log.read_columns()
    assert columns.triggers == WITH_ACCEPTANCE.trigger_names
    assert [columns.triggers[t] for t in columns.trigger if t >= 0] == [
        "start",
        "start",
        "submit",
        "submit",
        "accept",
    ]
    assert log.verify().records == 7
    log.close()


def test_a_log_read_with_another_lifecycle_says_so(tmp_path: object) -> None:
    path = f"{tmp_path}/trail.db"
    with SQLiteEventLog(path, lifecycle=WITH_ACCEPTANCE) as log:
        plan = MilestonePlanned(order_id="O-1", step="acceptance_test")
        log.append(
            "milestone:M-1",
            [
                new(plan, 0),
                new(MilestoneStarted(), 1),
                new(MilestoneTransitioned(trigger="submit"), 2),
            ],
        )
        columns = log.read_columns()
    with pytest.raises(ValidationError, match=r"columns\.triggers"):
        replay(columns, lifecycle=DEFAULT_LIFECYCLE)
    with SQLiteEventLog(path) as default:
        with pytest.raises(ValidationError, match="submit"):
            default.read_columns()
        blocked = MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER)
        with pytest.raises(ValidationError, match="awaiting_acceptance"):
            default.append("milestone:M-1", [new(blocked, 3)])
