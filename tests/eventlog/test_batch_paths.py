"""The fast, column-wise forms of the append steps agree with their event-by-event forms.

An append first tries each step in a few C-level passes and runs the event-by-event form, which
reports every problem with its path, only when the fast form finds something wrong. These
properties check that this changes nothing: the same batch, the same verdict, the same message.
"""

from __future__ import annotations

import uuid
from typing import Any

import pendulum
from hypothesis import example, given
from hypothesis import strategies as st

from servicedelivery.errors import ServiceDeliveryError
from servicedelivery.eventlog import (
    DEFAULT_REGISTRY,
    CaseOpened,
    ExpectedVersion,
    MilestoneBlocked,
    MilestoneCompleted,
    MilestonePlanned,
    MilestoneReopened,
    MilestoneStarted,
    MilestoneUnblocked,
    NewEvent,
    StreamHead,
)
from servicedelivery.eventlog._batch import (
    Batch,
    _check_fit_each,
    _fits,
    _prepared,
    _prepared_each,
    advance,
    advance_all,
    check_fit,
    prepare,
    prepare_many,
    records_of,
    records_of_many,
)
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE
from servicedelivery.model import DEFAULT_TAXONOMY, Owner
from servicedelivery.testing import aware_datetimes, events

MILESTONE_TYPES = tuple(t.cls for t in DEFAULT_REGISTRY if t.cls.stream_kind == "milestone")
START = pendulum.datetime(2025, 3, 30, 0, tz="Europe/Paris")


class SubclassedNewEvent(NewEvent):
    """A NewEvent of a subclass: valid, but only the event-by-event form takes it."""


@st.composite
def new_events(draw: st.DrawFn, *, ids: list[str]) -> Any:
    """New events, mostly milestone ones, at times that mostly go forward, ids that may repeat."""
    kind = draw(st.integers(0, 9))
    if kind == 0:  # now and then an event of another kind of stream
        event = draw(events(types=(CaseOpened,)))
    elif kind <= 6:  # the usual events; some blocks are refused
        event = draw(
            st.sampled_from(
                (
                    MilestonePlanned(order_id="O-1", step="installation"),
                    MilestoneStarted(),
                    MilestoneUnblocked(),
                    MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER),
                    MilestoneBlocked(reason="site_access", owner=Owner.PROVIDER),  # guard fails
                    MilestoneBlocked(reason="no_such_reason", owner=Owner.CUSTOMER),
                )
            )
        )
    else:
        event = draw(events(types=MILESTONE_TYPES))
    minutes = draw(st.integers(-30, 600))
    occurred = draw(st.just(START.add(minutes=minutes)) | aware_datetimes())
    repeat = draw(st.integers(0, 19)) == 0  # now and then an id the batch already uses
    event_id = draw(st.sampled_from(ids)) if repeat else str(draw(st.uuids()))
    ids.append(event_id)
    cls = draw(st.sampled_from((NewEvent,) * 9 + (SubclassedNewEvent,)))
    return cls(event, occurred_at=occurred, event_id=event_id)


@st.composite
def batches(draw: st.DrawFn) -> list[Any]:
    ids = [str(uuid.uuid4())]
    given_events = draw(st.lists(new_events(ids=ids), min_size=1, max_size=12))
    if draw(st.integers(0, 19)) == 0:
        given_events.insert(draw(st.integers(0, len(given_events))), "not an event")
    return given_events


def outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ServiceDeliveryError as error:
        return type(error).__name__, (str(error), getattr(error, "__notes__", None))


def comparable(batch: Batch) -> tuple[Batch, list[str]]:
    """A batch with its distinct types in a fixed order (the fast form finds them in any order)."""
    return batch._replace(distinct=()), sorted(t.name for t in batch.distinct)


@given(batches(), st.sampled_from(("milestone:M-1", "case:C-1")))
def test_prepare_gives_what_the_event_by_event_form_gives(
    given_events: list[Any], stream_id: str
) -> None:
    kind, _, entity = stream_id.partition(":")
    options: dict[str, Any] = {"taxonomy": DEFAULT_TAXONOMY, "kind": kind, "entity": entity}
    fast = outcome(
        lambda: prepare(
            DEFAULT_REGISTRY, stream_id, events=given_events, expected_version=0, **options
        )[0]
    )
    each = outcome(
        lambda: _prepared_each(
            DEFAULT_REGISTRY, stream_id, given=given_events, errors=[], **options
        )
    )
    if fast[0] == "ok" and each[0] == "ok":
        assert comparable(fast[1]) == comparable(each[1])
    else:
        assert fast == each


def valid_batch(given_events: list[Any]) -> Batch | None:
    try:
        return _prepared_each(
            DEFAULT_REGISTRY,
            "milestone:M-1",
            taxonomy=DEFAULT_TAXONOMY,
            kind="milestone",
            entity="M-1",
            given=given_events,
            errors=[],
        )
    except ServiceDeliveryError:
        return None


heads = st.none() | st.builds(
    StreamHead,
    stream_id=st.just("milestone:M-1"),
    version=st.integers(1, 5),
    state=st.sampled_from(DEFAULT_LIFECYCLE.state_names),
    last_occurred_ns=st.integers(0, 2 * 10**18),
)


@given(batches(), heads)
def test_check_fit_gives_what_the_event_by_event_form_gives(
    given_events: list[Any], head: StreamHead | None
) -> None:
    batch = valid_batch(given_events)
    if batch is None:
        return
    version = 0 if head is None else head.version
    last_ns = None if head is None else head.last_occurred_ns

    def nothing_recorded(ids: Any) -> list[Any]:
        return []

    fast = outcome(lambda: check_fit("milestone:M-1", batch, head, nothing_recorded))
    each = outcome(
        lambda: _check_fit_each("milestone:M-1", batch, version, last_ns, nothing_recorded)
    )
    assert fast == each


MOVES = (
    MilestoneStarted(),
    MilestoneUnblocked(),
    MilestoneCompleted(),
    MilestoneReopened(),
    MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER),
    MilestoneBlocked(reason="site_access", owner=Owner.PROVIDER),  # the owner guard fails
    MilestoneBlocked(reason="site_access", owner=Owner.PROVIDER, override=True),
)
transitions = st.lists(st.sampled_from(MOVES), min_size=1, max_size=12).map(
    lambda moves: [NewEvent(move, occurred_at=START.add(minutes=i)) for i, move in enumerate(moves)]
)


@given(batches() | transitions, st.none() | st.sampled_from(DEFAULT_LIFECYCLE.state_names))
# A move the batch made before, from the same state with the same trigger, refused by a guard.
@example([NewEvent(MOVES[i], occurred_at=START) for i in (4, 1, 5)], "in_progress")
def test_advance_all_gives_what_advancing_event_by_event_gives(
    given_events: list[Any], state: str | None
) -> None:
    batch = valid_batch(given_events)
    if batch is None:
        return

    def each() -> str | None:
        current = state
        for index, new in enumerate(batch.news):
            try:
                current = advance(DEFAULT_LIFECYCLE, DEFAULT_TAXONOMY, current, new.event, "M-1")
            except ServiceDeliveryError as error:
                error.add_note(f"events[{index}] of the batch; nothing was written")
                raise
        return current

    fast = outcome(
        lambda: advance_all(
            DEFAULT_LIFECYCLE,
            DEFAULT_TAXONOMY,
            kind="milestone",
            entity="M-1",
            batch=batch,
            state=state,
        )
    )
    assert fast == outcome(each)


def test_the_fast_forms_do_take_ordinary_batches() -> None:
    # Otherwise the properties above would compare the event-by-event forms with themselves.
    given_events = [
        NewEvent(MilestonePlanned(order_id="O-1", step="installation"), occurred_at=START),
        NewEvent(MilestoneStarted(), occurred_at=START.add(minutes=1)),
        NewEvent(
            MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER),
            occurred_at=START.add(minutes=2),
        ),
    ]
    batch = _prepared(DEFAULT_REGISTRY, DEFAULT_TAXONOMY, "milestone", "M-1", given_events)
    assert batch is not None
    assert _fits(batch, 0, None)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(("milestone:M-1", "milestone:M-2", "case:C-1")), batches() | transitions
        ),
        min_size=1,
        max_size=4,
    )
)
def test_prepare_many_gives_what_prepare_gives_for_each_batch(
    requests: list[tuple[str, list[Any]]],
) -> None:
    split = [
        (stream.partition(":")[0], stream.partition(":")[2], given) for stream, given in requests
    ]
    together = prepare_many(DEFAULT_REGISTRY, DEFAULT_TAXONOMY, split)
    each = [
        outcome(
            lambda stream=stream, given=given: prepare(
                DEFAULT_REGISTRY,
                stream,
                taxonomy=DEFAULT_TAXONOMY,
                kind=stream.partition(":")[0],
                entity=stream.partition(":")[2],
                events=given,
                expected_version=ExpectedVersion.ANY,
            )[0]
        )
        for stream, given in requests
    ]
    ids = [new.event_id for _, given in requests for new in given if isinstance(new, NewEvent)]
    if together is None:
        # Declined: a batch is refused, an id repeats, or an event is of a subclass of NewEvent.
        assert (
            any(kind != "ok" for kind, _ in each)
            or len(set(ids)) < len(ids)
            or any(type(new) is not NewEvent for _, given in requests for new in given)
        )
    else:
        assert [comparable(batch) for batch in together] == [comparable(b) for _, b in each]


@given(
    st.lists(
        st.tuples(st.sampled_from(("milestone:M-1", "milestone:M-2")), batches() | transitions),
        max_size=4,
    ),
    st.lists(st.integers(0, 5), min_size=4, max_size=4),
    st.integers(0, 100),
)
def test_records_of_many_are_records_of_one_batch_after_another(
    requests: list[tuple[str, list[Any]]], versions: list[int], position: int
) -> None:
    made = [(stream, valid_batch(given)) for stream, given in requests]
    chosen = [(stream, batch) for stream, batch in made if batch is not None]
    if not chosen:
        return
    stamp = ("2025-01-06T09:00:00+01:00", 1_736_150_400_000_000_000)
    expected = []
    at, previous = position, "0" * 64
    for (stream, batch), version in zip(chosen, versions, strict=False):
        records, rows = records_of(
            batch,
            stream_id=stream,
            version=version,
            position=at,
            previous=previous,
            recorded_at=stamp[0],
            recorded_ns=stamp[1],
        )
        expected.append((records, rows))
        at, previous = at + len(records), records[-1].hash
    together = records_of_many(
        [batch for _, batch in chosen],
        stream_ids=[stream for stream, _ in chosen],
        versions=versions[: len(chosen)],
        position=position,
        previous="0" * 64,
        recorded_at=stamp[0],
        recorded_ns=stamp[1],
    )
    assert together == expected
