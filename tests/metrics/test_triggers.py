"""Frames from trigger histories agree with a replay through the lifecycle's own scalar check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from servicedelivery import metrics
from servicedelivery.errors import InvalidTransition, ValidationError
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.metrics import EventFrame
from servicedelivery.model import DEFAULT_TAXONOMY, OWNERS, STATES, MilestoneState
from servicedelivery.testing import lifecycles

REASONS = ("site_access", "awaiting_provider", "noc_configuration")


@st.composite
def trigger_histories(draw: st.DrawFn, lifecycle: Lifecycle) -> dict[str, list[object]]:
    count = draw(st.integers(1, 30))
    columns: dict[str, list[object]] = {"item": [], "time": [], "trigger": [], "reason": []}
    for _ in range(count):
        columns["item"].append(f"m{draw(st.integers(0, 4))}")
        columns["time"].append(draw(st.integers(0, 12)))
        columns["trigger"].append(draw(st.none() | st.sampled_from(lifecycle.trigger_names)))
        columns["reason"].append(draw(st.sampled_from(REASONS)))
    return columns


def replay(columns: dict[str, list[object]], lifecycle: Lifecycle) -> list[tuple[object, ...]]:
    """Each row's (item, time, state, owner, reason), by item then time, through next_state."""
    rows = sorted(
        range(len(columns["item"])), key=lambda r: (columns["item"][r], columns["time"][r])
    )
    result = []
    state = current = None
    owner = reason = None
    for position, row in enumerate(rows):
        item = columns["item"][row]
        if position == 0 or columns["item"][rows[position - 1]] != item:
            current = lifecycle.initial
            owner = reason = None
        trigger = columns["trigger"][row]
        given_reason = columns["reason"][row]
        default_owner = DEFAULT_TAXONOMY.require(given_reason).owner.value
        if trigger is not None:
            try:
                current = lifecycle.next_state(
                    current, trigger, reason=given_reason, owner=default_owner
                )
            except InvalidTransition:
                pass  # refused: the state does not change
            else:
                owner, reason = default_owner, given_reason
        state = lifecycle.category(current).value
        if state != "blocked":
            owner = reason = None
        result.append((item, columns["time"][row], state, owner, reason))
    return result


def frame_rows(frame: EventFrame) -> list[tuple[object, ...]]:
    table = frame.to_pandas()
    return [
        (row.item, int(row.time.value), row.state, row.owner, row.reason)
        for row in table.itertuples()
    ]


@given(st.data())
def test_trigger_histories_of_the_default_lifecycle(data: st.DataObject) -> None:
    columns = data.draw(trigger_histories(DEFAULT_LIFECYCLE))
    frame = EventFrame.from_columns(columns, trigger="trigger", reason="reason")
    assert frame_rows(frame) == replay(columns, DEFAULT_LIFECYCLE)


@given(st.data())
def test_trigger_histories_of_custom_lifecycles(data: st.DataObject) -> None:
    lifecycle = data.draw(lifecycles())
    # A lifecycle that starts blocked cannot say why or on whom: see the test below.
    assume(lifecycle.category(lifecycle.initial) is not MilestoneState.BLOCKED)
    columns = data.draw(trigger_histories(lifecycle))
    frame = EventFrame.from_columns(
        columns, trigger="trigger", lifecycle=lifecycle, reason="reason"
    )
    assert frame_rows(frame) == replay(columns, lifecycle)


def test_a_milestone_told_by_its_triggers() -> None:
    day = 86_400 * 10**9
    frame = EventFrame.from_columns(
        {
            "milestone": ["M-1"] * 6,
            "time": [0, day, 2 * day, 4 * day, 5 * day, 6 * day],
            "trigger": [None, "start", "block", "reclassify", "unblock", "complete"],
            "reason": [None, None, "site_access", "provider_capacity", None, None],
            "owner": [None, None, None, "provider", None, None],
        },
        item="milestone",
        trigger="trigger",
        reason="reason",
        owner="owner",
    )
    assert [STATES[s].value for s in frame.state] == [
        "planned",
        "in_progress",
        "blocked",
        "blocked",
        "in_progress",
        "done",
    ]
    assert [OWNERS[o].value if o >= 0 else None for o in frame.owner] == [
        None,
        None,
        "customer",
        "provider",
        None,
        None,
    ]
    blocked = metrics.time_in_state(frame, now=6 * day, states=["blocked"], by=["owner"])
    assert blocked.duration.tolist() == [day, 2 * day]  # provider first, in owner order
    assert metrics.lead_time(frame).duration.tolist() == [6 * day]
    assert metrics.cycle_time(frame).duration.tolist() == [5 * day]
    assert STATES[frame.state[-1]] is MilestoneState.DONE


def test_trigger_options_are_checked() -> None:
    columns = {"item": ["a"], "time": [1], "trigger": ["start"], "state": ["done"]}
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns(columns, trigger="trigger", state="state")
    assert [e.path for e in caught.value.errors] == ["state"]
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns(columns, lifecycle=DEFAULT_LIFECYCLE)
    assert [e.path for e in caught.value.errors] == ["lifecycle"]
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns({**columns, "trigger": ["fly"]}, trigger="trigger")
    assert [e.path for e in caught.value.errors] == ["rows[0].trigger"]
    coded = EventFrame.from_columns({**columns, "trigger": np.array([0])}, trigger="trigger")
    assert STATES[coded.state[0]] is MilestoneState.IN_PROGRESS


def test_a_lifecycle_that_starts_blocked_needs_a_reason_before_any_trigger() -> None:
    lifecycle = Lifecycle.from_data(
        {
            "name": "waiting_first",
            "initial": "waiting",
            "states": [
                {"name": "waiting", "category": "blocked"},
                {"name": "working", "category": "in_progress", "terminal": True},
            ],
            "transitions": [{"trigger": "go", "sources": ["waiting"], "dest": "working"}],
        }
    )
    with pytest.raises(ValidationError) as caught:
        EventFrame.from_columns(
            {"item": ["a", "a"], "time": [1, 2], "trigger": [None, "go"]},
            trigger="trigger",
            lifecycle=lifecycle,
        )
    assert [e.path for e in caught.value.errors] == ["rows[0].reason"]
