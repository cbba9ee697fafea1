"""A batch on its way into the log: checked, encoded, fitted to its stream, then hash-chained.

:class:`~servicedelivery.eventlog.EventLog` runs these steps in order; everything up to
:func:`records_of` may refuse the batch, and none of them writes anything.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import attrs

from servicedelivery.errors import (
    EventIdConflictError,
    FieldError,
    UnknownEventTypeError,
    ValidationError,
)
from servicedelivery.eventlog._canonical import canonical_json
from servicedelivery.eventlog._chain import Covered, chained_hashes
from servicedelivery.eventlog._derived import Derived, derive
from servicedelivery.eventlog._escalations import EscalationRaised
from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._instants import instant_text, parse_instant
from servicedelivery.eventlog._records import (
    Appended,
    ExpectedVersion,
    NewEvent,
    StoredRecord,
    StreamHead,
)
from servicedelivery.eventlog._registry import EventRegistry, EventType
from servicedelivery.eventlog._streams import StreamKind
from servicedelivery.lifecycle import Lifecycle
from servicedelivery.model import Owner, Taxonomy, from_epoch_ns, unstructure

__all__ = [
    "AttributeRow",
    "Pending",
    "advance",
    "advance_all",
    "check_fit",
    "prepare",
    "records_of",
    "retry",
]

AttributeRow = tuple[int, str, str]
"""One categorical attribute of a planned milestone: (position, key, value)."""

_new_tuple = tuple.__new__
_ANY = ExpectedVersion.ANY
_NO_STREAM = ExpectedVersion.NO_STREAM


class Pending(NamedTuple):
    """A new event checked and encoded, waiting for its place in the log."""

    new: NewEvent
    type: EventType
    payload: str
    occurred_at: str
    occurred_ns: int
    derived: Derived


def prepare(
    registry: EventRegistry,
    stream_id: str,
    *,
    taxonomy: Taxonomy,
    kind: str,
    entity: str,
    events: Iterable[NewEvent],
    expected_version: object,
) -> tuple[list[Pending], int | ExpectedVersion]:
    """Check and encode a batch before the log is touched.

    Returns:
        The batch, and the expected version (``ExpectedVersion.ANY`` or a number).

    Raises:
        UnknownEventTypeError: An event's class is not registered (with every other problem).
        ValidationError: Every problem with the batch and the expected version.
    """
    errors: list[FieldError] = []
    unknown = False
    expected = _expected(expected_version, errors)
    candidates: object = events
    given = list(candidates) if isinstance(candidates, Iterable) else None
    if not given:
        errors.append(FieldError("events", events, "a non-empty sequence of NewEvent"))
        given = []
    batch: list[Pending] = []
    seen: dict[str, int] = {}
    classes: dict[type, _ClassFacts | None] = {}
    for index, new in enumerate(given):
        if type(new) is not NewEvent and not isinstance(new, NewEvent):
            errors.append(
                FieldError(
                    f"events[{index}]",
                    new,
                    "a NewEvent (wrap events: NewEvent(event, occurred_at=...))",
                )
            )
            continue
        event = new.event
        event_id = new.event_id
        if event_id in seen:
            errors.append(
                FieldError(
                    f"events[{index}].event_id",
                    event_id,
                    f"an id not already used by events[{seen[event_id]}] of the batch",
                )
            )
        else:
            seen[event_id] = index
        event_class = type(event)
        if event_class in classes:
            facts = classes[event_class]
        else:
            facts = classes[event_class] = _class_facts(registry, event_class)
        if facts is None:
            unknown = True
            errors.append(
                FieldError(
                    f"events[{index}].event",
                    event_class.__name__,
                    "an instance of an event class the log's registry knows",
                )
            )
            continue
        event_type, plain, carries_entity = facts
        if event_type.cls.stream_kind != kind:
            errors.append(
                FieldError(
                    f"events[{index}].event",
                    event_type.name,
                    f"an event type recorded in {kind!r} streams "
                    f"({event_type.name} goes in {event_type.cls.stream_kind!r} streams)",
                )
            )
        if carries_entity:
            carried = event.entity_id()
            if carried is not None and carried != entity:
                errors.append(
                    FieldError(
                        f"events[{index}].event",
                        carried,
                        f"an entity whose id is the stream's entity id {entity!r}",
                    )
                )
        occurred_at, occurred_ns = instant_text(new.occurred_at)
        encoded = _ENCODED.get(event) if plain else None
        if encoded is None:
            encoded = _encode(event, plain)
        payload, derived = encoded
        reason = derived.reason
        if reason is not None and reason not in taxonomy:
            errors.append(
                FieldError(
                    f"events[{index}].event.reason",
                    reason,
                    f"a reason code of the log's taxonomy ({', '.join(taxonomy.codes)})",
                )
            )
        # Built as a tuple: the named tuple's own constructor costs as much again.
        batch.append(
            _new_tuple(Pending, (new, event_type, payload, occurred_at, occurred_ns, derived))
        )
    if errors:
        cls = UnknownEventTypeError if unknown else ValidationError
        raise cls(errors, title=f"invalid batch for {stream_id!r}; nothing was written")
    return batch, expected


def _expected(expected_version: object, errors: list[FieldError]) -> int | ExpectedVersion:
    """The expected version as a number or ``ExpectedVersion.ANY``; a bad one joins ``errors``."""
    if expected_version in (_ANY, _NO_STREAM):
        expected = ExpectedVersion(str(expected_version))
        return 0 if expected is _NO_STREAM else expected
    if (
        isinstance(expected_version, int)
        and not isinstance(expected_version, bool)
        and expected_version >= 0
    ):
        return expected_version
    errors.append(
        FieldError(
            "expected_version",
            expected_version,
            "a version >= 0, ExpectedVersion.NO_STREAM or ExpectedVersion.ANY",
        )
    )
    return _ANY


def check_fit(
    stream_id: str,
    batch: list[Pending],
    head: StreamHead | None,
    recorded: Callable[[Sequence[str]], list[StoredRecord]],
) -> None:
    """Refuse events that do not fit where they would go in the stream.

    Args:
        stream_id: The stream.
        batch: The prepared batch.
        head: Where the stream stands (``None``: it has no events).
        recorded: Finds recorded events by id (the evidence escalations cite).

    Raises:
        ValidationError: Every event that opens an existing stream or continues a missing one,
            goes back in occurrence time, or cites evidence that is not recorded.
    """
    errors: list[FieldError] = []
    version = 0 if head is None else head.version
    last_ns = None if head is None else head.last_occurred_ns
    evidence: dict[str, str] = {}
    batch_ids = set()
    for index, pending in enumerate(batch):
        event, name = pending.new.event, pending.type.name
        opens = pending.type.cls.opens_stream
        at = version + index
        if opens is True and at > 0:
            errors.append(
                FieldError(
                    f"events[{index}].event",
                    name,
                    f"an event that may follow version {at} ({name} only opens a stream)",
                )
            )
        elif opens is False and at == 0:
            errors.append(
                FieldError(
                    f"events[{index}].event",
                    name,
                    f"an event that opens the stream ({stream_id!r} has no events yet)",
                )
            )
        if last_ns is not None and pending.occurred_ns < last_ns:
            errors.append(
                FieldError(
                    f"events[{index}].occurred_at",
                    pending.occurred_at,
                    "an instant not before the stream's previous event "
                    f"({from_epoch_ns(last_ns).isoformat()})",
                )
            )
        last_ns = pending.occurred_ns
        if isinstance(event, EscalationRaised):
            for cited, event_id in enumerate(event.evidence):
                if event_id not in batch_ids:
                    evidence.setdefault(event_id, f"events[{index}].event.evidence[{cited}]")
        batch_ids.add(pending.new.event_id)
    if evidence:
        found = {record.event_id for record in recorded(list(evidence))}
        errors.extend(
            FieldError(path, event_id, "the id of a recorded event")
            for event_id, path in evidence.items()
            if event_id not in found
        )
    if errors:
        raise ValidationError(
            errors, title=f"batch does not fit {stream_id!r}; nothing was written"
        )


def advance_all(
    lifecycle: Lifecycle,
    taxonomy: Taxonomy,
    *,
    kind: str,
    entity: str,
    batch: list[Pending],
    state: str | None,
) -> str | None:
    """The milestone's state after the batch; raises InvalidTransition for a refused event."""
    if kind != StreamKind.MILESTONE:
        return state
    for index, pending in enumerate(batch):
        try:
            state = advance(lifecycle, taxonomy, state, pending.new.event, entity)
        except Exception as error:
            error.add_note(f"events[{index}] of the batch; nothing was written")
            raise
    return state


_ENCODED: dict[Event, tuple[str, Derived]] = {}
_ENCODED_MAX = 4_096
_PLAIN = frozenset({str, int, bool, Owner, str | None, Owner | None})


class _ClassFacts(NamedTuple):
    """What an append needs to know of an event class, looked up once per batch."""

    type: EventType
    plain: bool
    carries_entity: bool


def _class_facts(registry: EventRegistry, cls: type) -> _ClassFacts | None:
    event_type = registry.find(cls)
    if event_type is None:
        return None
    return _ClassFacts(
        event_type,
        _plain(event_type.cls),
        getattr(cls, "entity_id", Event.entity_id) is not Event.entity_id,
    )


_PLAIN_CLASSES: dict[type, bool] = {}


def _plain(cls: type[Event]) -> bool:
    """Whether equal events of ``cls`` always have the same payload text.

    True when every field holds strings, numbers, booleans or owners. Not for datetimes: two equal
    instants at different offsets are written differently.
    """
    plain = _PLAIN_CLASSES.get(cls)
    if plain is None:
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # annotations that cannot be resolved: do not guess
            hints = {}
        fields = attrs.fields(typing.cast(Any, cls))
        plain = _PLAIN_CLASSES[cls] = all(hints.get(field.name) in _PLAIN for field in fields)
    return plain


def _encode(event: Event, plain: bool) -> tuple[str, Derived]:
    encoded = canonical_json(unstructure(event)), derive(event)
    if plain:
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.clear()
        _ENCODED[event] = encoded
    return encoded


def advance(
    lifecycle: Lifecycle, taxonomy: Taxonomy, state: str | None, event: Event, item: str
) -> str | None:
    """A milestone's state after ``event``: its stream's first event puts it in the initial state.

    Raises:
        InvalidTransition: The lifecycle refuses the event's trigger from ``state``.
    """
    if state is None:
        return lifecycle.initial
    transition = event.transition()
    if transition is None:
        return state
    return lifecycle.next_state(
        state,
        transition.trigger,
        reason=transition.reason,
        owner=transition.owner,
        override=transition.override,
        taxonomy=taxonomy,
        item=item,
    )


def records_of(
    batch: list[Pending],
    *,
    stream_id: str,
    version: int,
    position: int,
    previous: str,
    recorded_at: str,
    recorded_ns: int,
) -> tuple[list[StoredRecord], list[AttributeRow]]:
    """The stored records of a batch that goes after ``version`` and ``position``, hash-chained.

    Args:
        batch: The prepared batch.
        stream_id: The stream.
        version: The stream's version before the batch.
        position: The log's last position before the batch.
        previous: The hash of the record at ``position``.
        recorded_at: When the batch is recorded (text).
        recorded_ns: The same in ns since the epoch.
    """
    covered: list[Covered] = [
        (
            position + offset,
            new.event_id,
            stream_id,
            version + offset,
            event_type.name,
            event_type.version,
            payload,
            occurred_at,
            recorded_at,
            new.actor,
            new.source,
            new.correlation_id,
            new.causation_id,
        )
        for offset, (new, event_type, payload, occurred_at, _, _) in enumerate(batch, start=1)
    ]
    hashes = chained_hashes(covered, previous)
    # A stored record is the fields its hash covers, its hash, then the columns derived from it;
    # built as a tuple, since the named tuple's own constructor costs as much again.
    records = [
        _new_tuple(
            StoredRecord, (*fields, hash, pending.occurred_ns, recorded_ns, *pending.derived[:6])
        )
        for fields, hash, pending in zip(covered, hashes, batch, strict=True)
    ]
    attributes: list[AttributeRow] = [
        (position + offset, key, value)
        for offset, pending in enumerate(batch, start=1)
        if pending.derived.attributes
        for key, value in pending.derived.attributes
    ]
    return records, attributes


def retry(stream_id: str, batch: list[Pending], recorded: list[StoredRecord]) -> Appended:
    """The original positions of a retried batch, or EventIdConflictError if it is not a retry."""
    by_id = {record.event_id: record for record in recorded}
    first = by_id.get(batch[0].new.event_id)
    for offset, pending in enumerate(batch):
        record = by_id.get(pending.new.event_id)
        if record is None:
            other = next(iter(by_id.values()))
            raise EventIdConflictError(
                f"event id {other.event_id!r} is already recorded (position {other.position}) but "
                f"event id {pending.new.event_id!r} of the same batch is not; a retry must repeat "
                "the recorded batch exactly; nothing was written"
            )
        differences = [
            name
            for name, stored, given in (
                ("stream", record.stream_id, stream_id),
                ("type", record.type, pending.type.name),
                ("schema version", record.schema_version, pending.type.version),
                ("payload", record.payload, pending.payload),
                ("occurred_at", record.occurred_at, pending.occurred_at),
            )
            if stored != given
        ]
        if differences:
            raise EventIdConflictError(
                f"event id {record.event_id!r} is already recorded (position {record.position}, "
                f"stream {record.stream_id!r}) with a different {', '.join(differences)}; "
                "nothing was written"
            )
        if first is None or (record.position, record.version) != (
            first.position + offset,
            first.version + offset,
        ):
            raise EventIdConflictError(
                f"event id {record.event_id!r} is recorded at position {record.position}, not "
                "where a retry of one recorded batch would put it; nothing was written"
            )
    assert first is not None
    return Appended(
        stream_id,
        range(first.position, first.position + len(batch)),
        range(first.version, first.version + len(batch)),
        parse_instant(first.recorded_at),
        retried=True,
    )
