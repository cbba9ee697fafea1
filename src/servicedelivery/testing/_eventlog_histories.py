"""Histories, a reference fold and a state machine that the event log contract suite runs.

Shared by :class:`~servicedelivery.testing.EventLogContract` and the library's own tests.
"""

from __future__ import annotations

from typing import Any

import pendulum
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from servicedelivery.errors import (
    ConcurrencyError,
    EventIdConflictError,
    InvalidTransition,
    ValidationError,
)
from servicedelivery.eventlog import (
    NO_TARGET,
    BlockReclassified,
    CaseOpened,
    CaseResolved,
    Event,
    EventLog,
    ExpectedVersion,
    MilestoneBlocked,
    MilestoneCancelled,
    MilestoneCompleted,
    MilestonePlanned,
    MilestoneReopened,
    MilestoneStarted,
    MilestoneUnblocked,
    NewEvent,
    OrderPlaced,
    RecordedEvent,
    TargetDateChanged,
    Transition,
)
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE
from servicedelivery.model import (
    OWNERS,
    Case,
    CaseKind,
    Order,
    Owner,
    Priority,
    to_epoch_ns,
)
from servicedelivery.testing._events import blocks, notes, plans

__all__ = [
    "MOVES",
    "T0",
    "LogMachine",
    "assert_columns_match_records",
    "at",
    "block",
    "fold",
    "history",
    "log_snapshot",
    "new",
    "order",
    "plan",
    "random_history",
]

T0 = pendulum.datetime(2024, 3, 4, 9, tz="Europe/Paris")


def log_snapshot(log: EventLog) -> tuple[Any, ...]:
    """Everything a reader can observe of a log, to compare before and after an operation."""
    records = log.read_all()
    streams = sorted({record.stream_id for record in records})
    columns = log.read_columns()
    arrays = {name: array.tolist() for name, array in columns.arrays().items()}
    attributes = {key: (c.tolist(), v.tolist()) for key, (c, v) in columns.attributes.items()}
    return (
        log.head(),
        records,
        [(stream, log.stream_version(stream)) for stream in streams],
        arrays,
        columns.streams.tolist(),
        attributes,
    )


def at(minutes: int) -> pendulum.DateTime:
    return T0.add(minutes=minutes)


def plan(**fields: Any) -> MilestonePlanned:
    return MilestonePlanned(
        **{"order_id": "O-1", "step": "site_survey", **fields},
    )


def block(reason: str = "site_access", owner: Owner = Owner.CUSTOMER, **more: Any) -> Event:
    return MilestoneBlocked(reason=reason, owner=owner, **more)


def order(order_id: str = "O-1") -> Order:
    return Order(
        id=order_id,
        customer="ACME",
        site_id="S-1",
        service_ids=("SV-1",),
        requested_at=T0,
        priority=Priority.HIGH,
    )


def new(event: Event, minutes: int = 0, **envelope: Any) -> NewEvent:
    return NewEvent(event, occurred_at=at(minutes), **envelope)


def assert_columns_match_records(log: EventLog) -> None:
    """Every column of ``log.read_columns()`` says what the records say, entry by entry."""
    records = log.read_all()
    columns = log.read_columns()
    assert columns.position.tolist() == [r.position for r in records]
    assert columns.event_id.tolist() == [r.event_id for r in records]
    assert columns.streams[columns.stream].tolist() == [r.stream_id for r in records]
    assert list(columns.streams) == sorted(columns.streams)
    assert [columns.kinds[k] for k in columns.kind] == [r.type for r in records]
    assert columns.occurred_ns.tolist() == [to_epoch_ns(r.occurred_at) for r in records]
    assert columns.recorded_ns.tolist() == [to_epoch_ns(r.recorded_at) for r in records]
    transitions = [r.event.transition() for r in records]
    assert [columns.triggers[t] if t >= 0 else None for t in columns.trigger] == [
        None if t is None else t.trigger for t in transitions
    ]
    assert [OWNERS[o] if o >= 0 else None for o in columns.owner] == [
        None if t is None else t.owner for t in transitions
    ]
    assert [columns.reasons[r] if r >= 0 else None for r in columns.reason] == [
        None if t is None else t.reason for t in transitions
    ]
    assert columns.override.tolist() == [t is not None and t.override for t in transitions]
    expected_targets = [
        NO_TARGET
        if not isinstance(r.event, (MilestonePlanned, TargetDateChanged))
        or r.event.target_at is None
        else to_epoch_ns(r.event.target_at)
        for r in records
    ]
    assert columns.target_ns.tolist() == expected_targets
    assert columns.sequence.tolist() == [
        r.event.sequence if isinstance(r.event, MilestonePlanned) else -1 for r in records
    ]
    planned = [
        {"order_id": r.event.order_id, "step": r.event.step, **r.event.attributes}
        if isinstance(r.event, MilestonePlanned)
        else {}
        for r in records
    ]
    assert set(columns.attributes) == {"order_id", "step"} | {k for p in planned for k in p}
    for key, (codes, categories) in columns.attributes.items():
        assert list(categories) == sorted(categories)
        assert [categories[c] if c >= 0 else None for c in codes] == [
            p.get(key) for p in planned
        ], key


def history(log: EventLog) -> None:
    """A small mixed history: three milestones, an order, a case, targets, blocks and overrides."""
    log.append(
        "milestone:M-1",
        [
            new(plan(target_at=at(24 * 60), attributes={"provider": "cobalt_fibre"})),
            new(MilestoneStarted(), 10),
            new(block(), 20),
            new(MilestoneUnblocked(), 22),
        ],
    )
    log.append("order:O-1", [new(OrderPlaced(order=order()), 1)])
    log.append(
        "milestone:M-2",
        [
            new(plan(step="installation", sequence=1, attributes={"provider": "fjord_net"}), 2),
            new(MilestoneStarted(), 3),
            new(MilestoneCompleted(), 4),
        ],
    )
    log.append(
        "milestone:M-1",
        [
            new(block("provider_fault", Owner.PROVIDER), 30),
            new(BlockReclassified(reason="provider_fault", owner=Owner.PROVIDER), 31),
        ],
    )
    case = Case(id="C-1", kind=CaseKind.INCIDENT, priority=Priority.LOW, opened_at=at(40))
    log.append("case:C-1", [new(CaseOpened(case=case), 40), new(CaseResolved(), 41)])
    log.append(
        "milestone:M-3",
        [
            new(plan(step="handover", sequence=2, target_at=at(90)), 50),
            new(TargetDateChanged(target_at=None, note="customer moved the date"), 51),
        ],
    )


MOVES = ("start", "block", "reclassify", "unblock", "complete", "cancel", "reopen", "target")


def random_history(data: st.DataObject, log: EventLog, item: str, *, minutes: int) -> None:
    """A milestone's history of legal events only (illegal ones are refused), in a few batches."""
    stream = f"milestone:{item}"
    state = DEFAULT_LIFECYCLE.initial
    pending = [new(data.draw(plans(), label="plan"), minutes)]
    for step in range(data.draw(st.integers(0, 12), label="events")):
        move = data.draw(st.sampled_from(MOVES), label="move")
        event: Event
        if move == "target":
            event = TargetDateChanged(target_at=data.draw(st.none() | st.just(at(500))))
        elif move in ("block", "reclassify"):
            event = data.draw(blocks(reclassify=move == "reclassify"), label=move)
        else:
            event = {
                "start": MilestoneStarted,
                "unblock": MilestoneUnblocked,
                "complete": MilestoneCompleted,
                "cancel": MilestoneCancelled,
                "reopen": MilestoneReopened,
            }[move](note=data.draw(notes(), label="note"))
        transition = event.transition()
        if transition is not None:
            try:
                state = moved(state, transition)
            except InvalidTransition:
                continue
        pending.append(new(event, minutes + 10 * (step + 1)))
        if data.draw(st.booleans(), label="flush"):
            log.append(stream, pending)
            pending = []
    if pending:
        log.append(stream, pending)


def fold(records: list[RecordedEvent], as_of_ns: int | None) -> dict[str, dict[str, Any]]:
    """The slow reference: each milestone's situation, walking records one by one."""
    result: dict[str, dict[str, Any]] = {}
    for record in records:
        kind, _, item = record.stream_id.partition(":")
        occurred = to_epoch_ns(record.occurred_at)
        if kind != "milestone" or (as_of_ns is not None and occurred > as_of_ns):
            continue
        event = record.event
        if item not in result:
            result[item] = {
                "state": DEFAULT_LIFECYCLE.initial,
                "owner": None,
                "reason": None,
                "since_ns": occurred,
                "since_position": record.position,
                "target_ns": None,
            }
        row = result[item]
        row["last_position"] = record.position
        if isinstance(event, (MilestonePlanned, TargetDateChanged)):
            row["target_ns"] = None if event.target_at is None else to_epoch_ns(event.target_at)
        transition = event.transition()
        if transition is None:
            continue
        state = moved(row["state"], transition)
        blocked = DEFAULT_LIFECYCLE.category(state).value == "blocked"
        row["owner"] = transition.owner.value if blocked and transition.owner else None
        row["reason"] = transition.reason if blocked else None
        if state != row["state"]:
            row["since_ns"], row["since_position"] = occurred, record.position
        row["state"] = state
    return result


def moved(state: str, transition: Transition) -> str:
    """Where the default lifecycle takes ``state`` for ``transition`` (``InvalidTransition``)."""
    return DEFAULT_LIFECYCLE.next_state(
        state,
        transition.trigger,
        reason=transition.reason,
        owner=transition.owner,
        override=transition.override,
    )


_REASONS = {"block": "site_access", "reclassify": "hardware_delivery"}
_OWNERS = {"block": Owner.CUSTOMER, "reclassify": Owner.PROVIDER}


def _allowed(state: str) -> tuple[str, ...]:
    return DEFAULT_LIFECYCLE.allowed_triggers(state)


class LogMachine(RuleBasedStateMachine):
    """Drives a log and a model of it (a list of records) side by side.

    Streams are cases (an opening event, then anything) and milestones (the lifecycle decides),
    so that refusals of both kinds come up, as well as retries, reused ids and stale writers.
    """

    batches = Bundle("batches")

    def make(self) -> EventLog:
        raise NotImplementedError

    @initialize()
    def start(self) -> None:
        self.log = self.make()
        self.model: list[tuple[str, int, str, Event]] = []  # stream, version, event id, event
        self.states: dict[str, str] = {}
        self.minute = 0

    def _version(self, stream: str) -> int:
        return sum(1 for s, *_ in self.model if s == stream)

    def _next(self, event: Event) -> NewEvent:
        self.minute += 1
        return NewEvent(event, occurred_at=at(self.minute))

    @rule(
        target=batches,
        stream=st.sampled_from(("milestone:A", "milestone:B", "case:C")),
        length=st.integers(1, 4),
        mistake=st.sampled_from((None, None, None, "illegal")),
        expectation=st.sampled_from(("any", "exact", "exact", "stale")),
        data=st.data(),
    )
    def append(
        self, stream: str, length: int, mistake: str | None, expectation: str, data: st.DataObject
    ) -> Any:
        events = [
            self._next(self._event(stream, move)) for move in self._moves(stream, length, data)
        ]
        if mistake == "illegal":
            # An event out of place: an opening event on a stream that exists, or a trigger the
            # lifecycle does not allow from where the batch leaves the milestone.
            state = self._states_after(stream, events).get(stream)
            refused = [m for m in MOVES[:7] if state and m not in _allowed(state)]
            move = data.draw(st.sampled_from(refused)) if refused else "open"
            events.append(self._next(self._event(stream, move)))
        if not events:  # a finished milestone: nothing fits
            return None
        version = self._version(stream)
        expected: Any = {
            "any": ExpectedVersion.ANY,
            "exact": version,
            "stale": version + 1,
        }[expectation]
        outcome = self._predict(stream, events)
        before = log_snapshot(self.log)
        if expectation == "stale":
            with pytest.raises(ConcurrencyError):
                self.log.append(stream, events, expected_version=expected)
        elif outcome is not None:
            with pytest.raises(outcome):
                self.log.append(stream, events, expected_version=expected)
        else:
            appended = self.log.append(stream, events, expected_version=expected)
            assert appended.positions == range(
                len(self.model) + 1, len(self.model) + len(events) + 1
            )
            assert appended.versions == range(version + 1, version + len(events) + 1)
            for offset, new in enumerate(events, start=1):
                self.model.append((stream, version + offset, new.event_id, new.event))
            self.states.update(self._states_after(stream, events))
            return (stream, tuple(events), appended.positions)
        assert log_snapshot(self.log) == before
        return None

    def _moves(self, stream: str, length: int, data: st.DataObject) -> list[str]:
        """Moves that fit: an opening one on a new stream, then ones the lifecycle allows."""
        moves = [] if self._version(stream) else ["open"]
        state = self.states.get(stream, DEFAULT_LIFECYCLE.initial)
        while len(moves) < length:
            if not stream.startswith("milestone:"):
                moves.append("resolve")
                continue
            allowed = [m for m in MOVES[:7] if m in _allowed(state)]
            if not allowed:
                break
            move = data.draw(st.sampled_from(allowed))
            moves.append(move)
            state = DEFAULT_LIFECYCLE.next_state(
                state,
                move,
                reason=_REASONS.get(move),
                owner=_OWNERS.get(move),
            )
        return moves

    def _event(self, stream: str, move: str) -> Event:
        if stream.startswith("case:"):
            if move == "open":
                return CaseOpened(
                    case=Case(id="C", kind=CaseKind.REQUEST, priority=Priority.LOW, opened_at=T0)
                )
            return CaseResolved(note=move)
        return {  # every block and reclassification carries the reason's own owner
            "open": plan(),
            "start": MilestoneStarted(),
            "block": block(),
            "reclassify": BlockReclassified(reason="hardware_delivery", owner=Owner.PROVIDER),
            "unblock": MilestoneUnblocked(),
            "complete": MilestoneCompleted(),
            "cancel": MilestoneCancelled(),
            "reopen": MilestoneReopened(),
        }[move]

    def _predict(self, stream: str, events: list[NewEvent]) -> type[Exception] | None:
        """The error the log must raise for this batch, or None if it must record it."""
        version = self._version(stream)
        for offset, new in enumerate(events):
            opens = type(new.event).opens_stream
            if (opens is True and version + offset > 0) or (
                opens is False and version + offset == 0
            ):
                return ValidationError
        try:
            self._states_after(stream, events)
        except InvalidTransition:
            return InvalidTransition
        return None

    def _states_after(self, stream: str, events: list[NewEvent]) -> dict[str, str]:
        if not stream.startswith("milestone:"):
            return {}
        state = self.states.get(stream)
        for new in events:
            transition = new.event.transition()
            if state is None:
                state = DEFAULT_LIFECYCLE.initial
            elif transition is not None:
                state = moved(state, transition)
        return {} if state is None else {stream: state}

    @rule(
        streams=st.lists(
            st.sampled_from(("milestone:A", "milestone:B", "case:C")), min_size=1, max_size=3
        ),
        mistake=st.sampled_from((None, None, "illegal")),
        data=st.data(),
    )
    def append_many(self, streams: list[str], mistake: str | None, data: st.DataObject) -> None:
        # The batches are built, and predicted, one after the other, each on where the ones
        # before it leave the model: the log checks them in that order.
        before, model, states = log_snapshot(self.log), list(self.model), dict(self.states)
        batches: list[tuple[str, list[NewEvent]]] = []
        error: type[Exception] | None = None
        for index, stream in enumerate(streams):
            moves = self._moves(stream, data.draw(st.integers(1, 3)), data)
            events = [self._next(self._event(stream, move)) for move in moves]
            if mistake == "illegal" and index == len(streams) - 1:
                state = self._states_after(stream, events).get(stream)
                refused = [m for m in MOVES[:7] if state and m not in _allowed(state)]
                move = data.draw(st.sampled_from(refused)) if refused else "open"
                events.append(self._next(self._event(stream, move)))
            if not events:
                continue
            error = error or self._predict(stream, events)
            if error is None:
                version = self._version(stream)
                self.states.update(self._states_after(stream, events))
                self.model.extend(
                    (stream, version + offset, new.event_id, new.event)
                    for offset, new in enumerate(events, start=1)
                )
            batches.append((stream, events))
        if error is not None or not batches:
            self.model, self.states = model, states
        if not batches:
            return
        if error is not None:
            with pytest.raises(error):
                self.log.append_many(batches)
            assert log_snapshot(self.log) == before
            return
        appended = self.log.append_many(batches)
        position = len(model)
        for (stream, events), result in zip(batches, appended, strict=True):
            assert result.stream_id == stream
            assert result.positions == range(position + 1, position + len(events) + 1)
            position += len(events)
        assert position == len(self.model)

    @rule(batch=batches, stale=st.booleans())
    def retry(self, batch: Any, stale: bool) -> None:
        if batch is None:
            return
        stream, events, positions = batch
        before = log_snapshot(self.log)
        appended = self.log.append(
            stream, list(events), expected_version=0 if stale else ExpectedVersion.ANY
        )
        assert appended.positions == positions
        assert appended.retried
        assert log_snapshot(self.log) == before

    @rule(batch=batches, text=st.text(max_size=5))
    def reuse_an_id(self, batch: Any, text: str) -> None:
        note = f"impostor {text}"  # unlike any note the machine records
        if batch is None:
            return
        stream, events, _ = batch
        impostor = NewEvent(
            CaseResolved(note=note) if stream.startswith("case:") else MilestoneStarted(note=note),
            occurred_at=events[0].occurred_at,
            event_id=events[0].event_id,
        )
        before = log_snapshot(self.log)
        with pytest.raises(EventIdConflictError):
            self.log.append(stream, [impostor])
        assert log_snapshot(self.log) == before

    @rule(stream=st.sampled_from(("milestone:A", "milestone:B", "case:C", "case:D")))
    def read_stream(self, stream: str) -> None:
        recorded = self.log.read_stream(stream)
        expected = [(v, i, e) for s, v, i, e in self.model if s == stream]
        assert [(r.version, r.event_id, r.event) for r in recorded] == expected
        assert self.log.stream_version(stream) == len(expected)

    @rule(start=st.integers(0, 40))
    def read_all(self, start: int) -> None:
        recorded = self.log.read_all(from_position=start)
        expected = self.model[max(start, 1) - 1 :]
        assert [(r.stream_id, r.version, r.event_id) for r in recorded] == [
            (s, v, i) for s, v, i, _ in expected
        ]

    @invariant()
    def head_is_the_model_length(self) -> None:
        if hasattr(self, "log"):
            assert self.log.head() == len(self.model)

    def teardown(self) -> None:
        if hasattr(self, "log"):
            assert self.log.verify().records == len(self.model)
