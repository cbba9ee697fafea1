"""Appends every log must refuse, leaving it exactly as it was; shared by the backends' tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pendulum

from servicedelivery.errors import (
    ConcurrencyError,
    EventIdConflictError,
    InvalidTransition,
    UnknownEventTypeError,
    ValidationError,
)
from servicedelivery.eventlog import (
    EscalationRaised,
    EventLog,
    MilestoneBlocked,
    MilestonePlanned,
    MilestoneStarted,
    NewEvent,
)
from servicedelivery.model import Owner
from servicedelivery.testing import ManualClock

T0 = pendulum.datetime(2024, 3, 4, 9, tz="Europe/Paris")


def new(event: Any, minutes: int = 0, **envelope: Any) -> NewEvent:
    return NewEvent(event, occurred_at=T0.add(minutes=minutes), **envelope)


def plan() -> MilestonePlanned:
    return MilestonePlanned(order_id="O-1", step="site_survey", attributes={"region": "france"})


def fill(log: EventLog) -> EventLog:
    log.append("milestone:M-1", [new(plan()), new(MilestoneStarted(), 1)])
    log.append("milestone:M-2", [new(plan(), 2)])
    return log


def block_without_reason(log: EventLog) -> object:
    new_event = NewEvent.from_data(
        {
            "type": "milestone.blocked",
            "payload": {"owner": "customer"},
            "occurred_at": "2024-03-04T10:00:00+01:00",
        }
    )
    return log.append("milestone:M-1", [new_event])


def unproven_escalation(log: EventLog) -> object:
    escalation = EscalationRaised(
        policy="late",
        item="milestone:M-1",
        episode=2,
        target="customer",
        evidence=(str(uuid.uuid4()),),
    )
    return log.append("escalation:late", [new(escalation, 5)])


BAD_APPENDS: list[tuple[str, type[Exception], Callable[[EventLog], object]]] = [
    (
        "unknown event type",
        UnknownEventTypeError,
        lambda log: log.append("milestone:M-1", [new(_Unregistered(), 5)]),
    ),
    ("a block without reason, from data", ValidationError, block_without_reason),
    (
        "a block with a reason the taxonomy does not know",
        ValidationError,
        lambda log: log.append(
            "milestone:M-1", [new(MilestoneBlocked(reason="moon_phase", owner=Owner.CUSTOMER), 5)]
        ),
    ),
    (
        "an illegal transition late in the batch",
        InvalidTransition,
        lambda log: log.append(
            "milestone:M-2", [new(MilestoneStarted(), 5), new(MilestoneStarted(), 6)]
        ),
    ),
    (
        "a wrong expected version",
        ConcurrencyError,
        lambda log: log.append(
            "milestone:M-1", [new(MilestoneStarted(note="again"), 5)], expected_version=1
        ),
    ),
    (
        "occurrence time going back",
        ValidationError,
        lambda log: log.append("milestone:M-1", [new(MilestoneStarted(), -60)]),
    ),
    ("an escalation citing an event that is not recorded", ValidationError, unproven_escalation),
    (
        "an id reused for other content",
        EventIdConflictError,
        lambda log: log.append(
            "milestone:M-3", [new(plan(), 9, event_id=log.read_all()[0].event_id)]
        ),
    ),
    (
        "append_many, an illegal transition in its last batch",
        InvalidTransition,
        lambda log: log.append_many(
            [
                ("milestone:M-3", [new(plan(), 9)]),
                ("milestone:M-2", [new(MilestoneStarted(), 5), new(MilestoneStarted(), 6)]),
            ]
        ),
    ),
    (
        "append_many, a wrong expected version for its second stream",
        ConcurrencyError,
        lambda log: log.append_many(
            [
                ("milestone:M-3", [new(plan(), 9)]),
                ("milestone:M-1", [new(MilestoneStarted(note="again"), 5)]),
            ],
            expected_versions={"milestone:M-1": 1},
        ),
    ),
    (
        "a naive clock",
        ValidationError,
        lambda log: (
            setattr(log, "_clock", lambda: pendulum.naive(2024, 5, 1)),
            log.append("milestone:M-3", [new(plan(), 9)]),
        ),
    ),
]


class _Unregistered(MilestoneStarted):
    """A subclass the registry does not know."""


def act_after(log: EventLog) -> None:
    """What must still work after a refusal: the next append."""
    log._clock = ManualClock(pendulum.datetime(2030, 1, 1, tz="UTC"))
    log.append("milestone:M-2", [new(MilestoneStarted(), 10)])
