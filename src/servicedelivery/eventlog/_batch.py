"""A batch on its way into the log: checked, encoded, fitted to its stream, then hash-chained.

:class:`~servicedelivery.eventlog.EventLog` runs these steps in order; everything up to
:func:`records_of` may refuse the batch, and none of them writes anything.

A batch is handled as columns (:class:`Batch`), a list per field, so that each step is a few
C-level passes (``map`` with getters, ``zip``, set and dict look-ups) rather than Python code per
event: an append of 1,000 events costs a few microseconds per event. Each check has a fast form
that only says whether everything is fine; when it is not, the step runs its event-by-event form,
which reports every problem with its path, so what is refused, and how, is the same either way.
"""

from __future__ import annotations

import bisect
import itertools
import operator
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
from servicedelivery.eventlog._canonical import canonical_json, canonical_string
from servicedelivery.eventlog._chain import batch_hashes
from servicedelivery.eventlog._derived import Derived, derive
from servicedelivery.eventlog._escalations import EscalationRaised
from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._instants import instant_text, instant_texts, parse_instant
from servicedelivery.eventlog._records import (
    Appended,
    ExpectedVersion,
    NewEvent,
    RecordColumns,
    StoredRecord,
    StreamHead,
)
from servicedelivery.eventlog._registry import EventRegistry, EventType
from servicedelivery.eventlog._streams import StreamKind
from servicedelivery.lifecycle import Lifecycle
from servicedelivery.model import Owner, Taxonomy, from_epoch_ns, unstructure

__all__ = [
    "AttributeRow",
    "Batch",
    "advance",
    "advance_all",
    "check_fit",
    "expected_version_of",
    "prepare",
    "prepare_many",
    "records_of",
    "records_of_many",
    "retry",
]

AttributeRow = tuple[int, str, str]
"""One categorical attribute of a planned milestone: (position, key, value)."""

_ANY = ExpectedVersion.ANY
_NO_STREAM = ExpectedVersion.NO_STREAM


class Batch(NamedTuple):
    """A new batch checked and encoded, waiting for its place in the log: a list per field.

    Attributes:
        news: The new events, in order.
        event_ids: Their ids.
        types: Their registered types.
        payloads: Their payloads' canonical JSON.
        quoted: Each payload's text as a JSON string (how the chain text holds it).
        occurred_at: When each occurred, as stored text.
        occurred_ns: The same in ns since the epoch.
        derived: The derived columns of each.
        distinct: The distinct types among ``types``.
    """

    news: list[NewEvent]
    event_ids: list[str]
    types: list[EventType]
    payloads: list[str]
    quoted: list[str]
    occurred_at: list[str]
    occurred_ns: list[int]
    derived: list[Derived]
    distinct: tuple[EventType, ...]


_EVENT = operator.attrgetter("event")
_EVENT_ID = operator.attrgetter("event_id")
_OCCURRED = operator.attrgetter("occurred_at")
_ENVELOPE_IDS = operator.attrgetter("actor", "source", "correlation_id", "causation_id")
_TYPE_NAME = operator.attrgetter("name")
_TYPE_VERSION = operator.attrgetter("version")
_REASON = operator.itemgetter(2)
_ROW_POSITION = operator.itemgetter(0)
_JUST_NEW_EVENTS = {NewEvent}


def prepare(
    registry: EventRegistry,
    stream_id: str,
    *,
    taxonomy: Taxonomy,
    kind: str,
    entity: str,
    events: Iterable[NewEvent],
    expected_version: object,
) -> tuple[Batch, int | ExpectedVersion]:
    """Check and encode a batch before the log is touched.

    Returns:
        The batch, and the expected version (``ExpectedVersion.ANY`` or a number).

    Raises:
        UnknownEventTypeError: An event's class is not registered (with every other problem).
        ValidationError: Every problem with the batch and the expected version.
    """
    errors: list[FieldError] = []
    expected = expected_version_of(expected_version, errors)
    candidates: object = events
    given = list(candidates) if isinstance(candidates, Iterable) else None
    if given and not errors:
        batch = _prepared(registry, taxonomy, kind, entity, given)
        if batch is not None:
            return batch, expected
    if not given:
        errors.append(FieldError("events", events, "a non-empty sequence of NewEvent"))
        given = []
    return _prepared_each(
        registry, stream_id, taxonomy=taxonomy, kind=kind, entity=entity, given=given, errors=errors
    ), expected


def prepare_many(
    registry: EventRegistry,
    taxonomy: Taxonomy,
    requests: Sequence[tuple[str, str, list[Any]]],
) -> list[Batch] | None:
    """The batches of several streams, checked and encoded together, when every event is fine.

    Each request is ``(kind, entity, events)``. The events of all the batches go through the
    batch form of :func:`prepare` as one column each (their instants, payloads and checks in one
    pass), then are cut back into one batch per request. ``None`` when something is not fine, or
    an event id is used twice: :func:`prepare` of each batch then says what.
    """
    lengths = [len(given) for _, _, given in requests]
    if not all(lengths):
        return None
    kinds = list(
        itertools.chain.from_iterable(map(itertools.repeat, (k for k, _, _ in requests), lengths))
    )
    entities = list(
        itertools.chain.from_iterable(map(itertools.repeat, (e for _, e, _ in requests), lengths))
    )
    given = list(itertools.chain.from_iterable(events for _, _, events in requests))
    whole = _prepared(registry, taxonomy, kinds, entities, given)
    if whole is None:
        return None
    batches = []
    start = 0
    for length in lengths:
        part = slice(start, start + length)
        types = whole.types[part]
        batches.append(
            Batch(
                whole.news[part],
                whole.event_ids[part],
                types,
                whole.payloads[part],
                whole.quoted[part],
                whole.occurred_at[part],
                whole.occurred_ns[part],
                whole.derived[part],
                _distinct(types),
            )
        )
        start += length
    return batches


def _prepared(
    registry: EventRegistry,
    taxonomy: Taxonomy,
    kind: str | list[str],
    entity: str | list[str],
    given: list[Any],
) -> Batch | None:
    """The batch when every event is fine, else ``None`` (``_prepared_each`` says what is not).

    ``kind`` and ``entity`` are the stream's, or each event's (batches of several streams).
    """
    if set(map(type, given)) != _JUST_NEW_EVENTS:
        return None
    event_ids: list[str] = list(map(_EVENT_ID, given))
    if len(set(event_ids)) != len(event_ids):
        return None
    events: list[Event] = list(map(_EVENT, given))
    classes = list(map(type, events))
    facts: dict[type, _ClassFacts] = {}
    for cls in set(classes):
        found = _class_facts(registry, cls)
        if found is None:
            return None
        facts[cls] = found
    if isinstance(kind, str):
        if any(found.type.cls.stream_kind != kind for found in facts.values()):
            return None
    elif (
        list(map({c: f.type.cls.stream_kind for c, f in facts.items()}.__getitem__, classes))
        != kind
    ):
        return None
    carrying = {cls for cls, found in facts.items() if found.carries_entity}
    if carrying and any(
        type(event) in carrying and event.entity_id() not in (None, stream_entity)
        for event, stream_entity in zip(
            events,
            itertools.repeat(entity) if isinstance(entity, str) else entity,
            strict=False,  # one entity repeated for a single stream
        )
    ):
        return None
    types = list(map({cls: found.type for cls, found in facts.items()}.__getitem__, classes))
    occurred_at, occurred_ns = instant_texts(list(map(_OCCURRED, given)))
    if all(found.plain for found in facts.values()):
        encoded = list(map(_ENCODED.get, events))
    else:
        encoded = [
            _ENCODED.get(e) if facts[c].plain else None
            for e, c in zip(events, classes, strict=True)
        ]
    for index in [index for index, value in enumerate(encoded) if value is None]:
        # An earlier event of the batch may have been equal, and encoded since.
        event = events[index]
        plain = facts[classes[index]].plain
        encoded[index] = (_ENCODED.get(event) if plain else None) or _encode(event, plain)
    payloads, quoted, derived = (list(column) for column in zip(*encoded, strict=True))
    reasons = set(map(_REASON, derived))
    reasons.discard(None)
    if not all(reason in taxonomy for reason in reasons):
        return None
    distinct = tuple(found.type for found in facts.values())
    return Batch(
        given, event_ids, types, payloads, quoted, occurred_at, occurred_ns, derived, distinct
    )


def _prepared_each(
    registry: EventRegistry,
    stream_id: str,
    *,
    taxonomy: Taxonomy,
    kind: str,
    entity: str,
    given: list[Any],
    errors: list[FieldError],
) -> Batch:
    """The batch checked event by event: raises with every problem, with its path."""
    unknown = False
    pending: list[tuple[NewEvent, EventType, tuple[str, str, Derived], str, int]] = []
    seen: dict[str, int] = {}
    classes: dict[type, _ClassFacts | None] = {}
    for index, new in enumerate(given):
        if not isinstance(new, NewEvent):
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
        reason = encoded[2].reason
        if reason is not None and reason not in taxonomy:
            errors.append(
                FieldError(
                    f"events[{index}].event.reason",
                    reason,
                    f"a reason code of the log's taxonomy ({', '.join(taxonomy.codes)})",
                )
            )
        pending.append((new, event_type, encoded, occurred_at, occurred_ns))
    if errors:
        cls = UnknownEventTypeError if unknown else ValidationError
        raise cls(errors, title=f"invalid batch for {stream_id!r}; nothing was written")
    # A batch the fast path declined that is fine after all (events of a subclass of NewEvent).
    news, types, encoded_all, occurred, occurred_ns_all = (
        list(column) for column in zip(*pending, strict=True)
    )
    payloads, quoted, derived = (list(column) for column in zip(*encoded_all, strict=True))
    return Batch(
        news,
        [new.event_id for new in news],
        types,
        payloads,
        quoted,
        occurred,
        occurred_ns_all,
        derived,
        _distinct(types),
    )


def _distinct(types: list[EventType]) -> tuple[EventType, ...]:
    """The distinct types, in order (by identity: an EventType's hash would hash its upcasters)."""
    return tuple({id(event_type): event_type for event_type in types}.values())


def expected_version_of(
    expected_version: object, errors: list[FieldError]
) -> int | ExpectedVersion:
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
    batch: Batch,
    head: StreamHead | None,
    recorded: Callable[[Sequence[str]], Iterable[str]],
) -> None:
    """Refuse events that do not fit where they would go in the stream.

    Args:
        stream_id: The stream.
        batch: The prepared batch.
        head: Where the stream stands (``None``: it has no events).
        recorded: Which of these event ids are recorded (the evidence escalations cite).

    Raises:
        ValidationError: Every event that opens an existing stream or continues a missing one,
            goes back in occurrence time, or cites evidence that is not recorded.
    """
    version = 0 if head is None else head.version
    last_ns = None if head is None else head.last_occurred_ns
    if not _fits(batch, version, last_ns):
        _check_fit_each(stream_id, batch, version, last_ns, recorded)


def _check_fit_each(
    stream_id: str,
    batch: Batch,
    version: int,
    last_ns: int | None,
    recorded: Callable[[Sequence[str]], Iterable[str]],
) -> None:
    """``check_fit`` event by event: raises with every problem, with its path."""
    errors: list[FieldError] = []
    evidence: dict[str, str] = {}
    batch_ids = set()
    for index, (new, event_type, occurred_at, occurred_ns) in enumerate(
        zip(batch.news, batch.types, batch.occurred_at, batch.occurred_ns, strict=True)
    ):
        event, name = new.event, event_type.name
        opens = event_type.cls.opens_stream
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
        if last_ns is not None and occurred_ns < last_ns:
            errors.append(
                FieldError(
                    f"events[{index}].occurred_at",
                    occurred_at,
                    "an instant not before the stream's previous event "
                    f"({from_epoch_ns(last_ns).isoformat()})",
                )
            )
        last_ns = occurred_ns
        if isinstance(event, EscalationRaised):
            for cited, event_id in enumerate(event.evidence):
                if event_id not in batch_ids:
                    evidence.setdefault(event_id, f"events[{index}].event.evidence[{cited}]")
        batch_ids.add(new.event_id)
    if evidence:
        found = set(recorded(list(evidence)))
        errors.extend(
            FieldError(path, event_id, "the id of a recorded event")
            for event_id, path in evidence.items()
            if event_id not in found
        )
    if errors:
        raise ValidationError(
            errors, title=f"batch does not fit {stream_id!r}; nothing was written"
        )


def _fits(batch: Batch, version: int, last_ns: int | None) -> bool:
    """Whether ``check_fit`` finds nothing wrong, in a few C-level passes (no evidence to look up)."""
    first = batch.types[0].cls.opens_stream
    if first is (version > 0):  # an opening event on a stream, or a following one on none
        return False
    openers = {id(t) for t in batch.distinct if t.cls.opens_stream is True}
    if openers and any(map(openers.__contains__, map(id, itertools.islice(batch.types, 1, None)))):
        return False
    if any(issubclass(t.cls, EscalationRaised) for t in batch.distinct):
        return False
    ns = batch.occurred_ns
    if last_ns is not None and ns[0] < last_ns:
        return False
    return all(map(operator.le, ns, itertools.islice(ns, 1, None)))


def advance_all(
    lifecycle: Lifecycle,
    taxonomy: Taxonomy,
    *,
    kind: str,
    entity: str,
    batch: Batch,
    state: str | None,
) -> str | None:
    """The milestone's state after the batch; raises InvalidTransition for a refused event."""
    if kind != StreamKind.MILESTONE:
        return state
    # Where a move leads depends only on the state and the event's trigger, reason, owner and
    # override, which its derived columns hold: each distinct move of the batch is checked by the
    # lifecycle once (a refused one raises there, with its message) and then looked up.
    moves: dict[tuple[str | None, Derived], str | None] = {}
    events = batch.news
    for index, derived in enumerate(batch.derived):
        if derived[0] is None and state is not None:
            continue  # not a transition: the state stays
        key = (state, derived)
        target = moves.get(key)
        if target is None:
            try:
                target = advance(lifecycle, taxonomy, state, events[index].event, entity)
            except Exception as error:
                error.add_note(f"events[{index}] of the batch; nothing was written")
                raise
            moves[key] = target
        state = target
    return state


_ENCODED: dict[Event, tuple[str, str, Derived]] = {}
_ENCODED_MAX = 4_096
_PLAIN = frozenset({str, int, bool, Owner, str | None, Owner | None})


class _ClassFacts(NamedTuple):
    """What an append needs to know of an event class, looked up once per batch."""

    type: EventType
    plain: bool
    carries_entity: bool


def _class_facts(registry: EventRegistry, cls: type) -> _ClassFacts | None:
    # Registries are immutable: what one says of a class is looked up once. The entry keeps its
    # registry, so that an id reused by a later registry is not mistaken for it.
    cached = _FACTS.get((id(registry), cls))
    if cached is not None and cached[0] is registry:
        return cached[1]
    event_type = registry.find(cls)
    facts = (
        None
        if event_type is None
        else _ClassFacts(
            event_type,
            _plain(event_type.cls),
            getattr(cls, "entity_id", Event.entity_id) is not Event.entity_id,
        )
    )
    if len(_FACTS) >= _FACTS_MAX:
        _FACTS.clear()
    _FACTS[(id(registry), cls)] = (registry, facts)
    return facts


_FACTS: dict[tuple[int, type], tuple[EventRegistry, _ClassFacts | None]] = {}
_FACTS_MAX = 1_024


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


def _encode(event: Event, plain: bool) -> tuple[str, str, Derived]:
    payload = canonical_json(unstructure(event))
    encoded = payload, canonical_string(payload), derive(event)
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
    batch: Batch,
    *,
    stream_id: str,
    version: int,
    position: int,
    previous: str,
    recorded_at: str,
    recorded_ns: int,
) -> tuple[RecordColumns, list[AttributeRow]]:
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
    count = len(batch.news)
    return _records(
        batch,
        streams=stream_id,
        versions=range(version + 1, version + count + 1),
        position=position,
        previous=previous,
        recorded_at=recorded_at,
        recorded_ns=recorded_ns,
    )


def records_of_many(
    batches: Sequence[Batch],
    *,
    stream_ids: Sequence[str],
    versions: Sequence[int],
    position: int,
    previous: str,
    recorded_at: str,
    recorded_ns: int,
) -> list[tuple[RecordColumns, list[AttributeRow]]]:
    """``records_of`` of consecutive batches of several streams, in one pass over all their events.

    Args:
        batches: The prepared batches, in the order they are recorded.
        stream_ids: Each batch's stream.
        versions: Each batch's stream version before it.
        position: The log's last position before the first batch.
        previous: The hash of the record at ``position``.
        recorded_at: When the batches are recorded (text).
        recorded_ns: The same in ns since the epoch.
    """
    lengths = [len(batch.news) for batch in batches]
    chain = itertools.chain.from_iterable
    whole = Batch(
        news=list(chain(batch.news for batch in batches)),
        event_ids=list(chain(batch.event_ids for batch in batches)),
        types=list(chain(batch.types for batch in batches)),
        payloads=list(chain(batch.payloads for batch in batches)),
        quoted=list(chain(batch.quoted for batch in batches)),
        occurred_at=list(chain(batch.occurred_at for batch in batches)),
        occurred_ns=list(chain(batch.occurred_ns for batch in batches)),
        derived=list(chain(batch.derived for batch in batches)),
        distinct=(),  # not needed to make records
    )
    records, attributes = _records(
        whole,
        streams=list(chain(map(itertools.repeat, stream_ids, lengths))),
        versions=list(
            chain(range(v + 1, v + n + 1) for v, n in zip(versions, lengths, strict=True))
        ),
        position=position,
        previous=previous,
        recorded_at=recorded_at,
        recorded_ns=recorded_ns,
    )
    # Back into batches: records by count, attribute rows by the positions they belong to.
    result = []
    start = row = 0
    for length in lengths:
        start += length
        end = bisect.bisect_right(attributes, position + start, lo=row, key=_ROW_POSITION)
        result.append((records.part(start - length, start), attributes[row:end]))
        row = end
    return result


def _records(
    batch: Batch,
    *,
    streams: str | Sequence[str],
    versions: Sequence[int],
    position: int,
    previous: str,
    recorded_at: str,
    recorded_ns: int,
) -> tuple[RecordColumns, list[AttributeRow]]:
    """The records of a batch, of one stream or (``streams`` per event) of several."""
    count = len(batch.news)
    positions = range(position + 1, position + count + 1)
    names = list(map(_TYPE_NAME, batch.types))
    schema_versions = list(map(_TYPE_VERSION, batch.types))
    actors, sources, correlations, causations = (
        list(column) for column in zip(*map(_ENVELOPE_IDS, batch.news), strict=True)
    )
    hashes = batch_hashes(
        positions,
        batch.event_ids,
        stream_ids=streams,
        versions=versions,
        types=names,
        schema_versions=schema_versions,
        quoted_payloads=batch.quoted,
        occurred_at=batch.occurred_at,
        recorded_at=recorded_at,
        envelope_ids=(actors, sources, correlations, causations),
        previous=previous,
    )
    triggers, owners, reasons, overrides, targets, sequences, attributes = zip(
        *batch.derived, strict=True
    )
    # A stored record is the fields its hash covers, its hash, then the columns derived from it
    # (see StoredRecord): the batch's records are those columns, made into rows only for a backend
    # that asks for rows.
    records = RecordColumns(
        [
            list(positions),
            batch.event_ids,
            [streams] * count if isinstance(streams, str) else list(streams),
            list(versions),
            names,
            schema_versions,
            batch.payloads,
            batch.occurred_at,
            [recorded_at] * count,
            actors,
            sources,
            correlations,
            causations,
            hashes,
            batch.occurred_ns,
            [recorded_ns] * count,
            list(triggers),
            list(owners),
            list(reasons),
            list(overrides),
            list(targets),
            list(sequences),
        ]
    )
    rows: list[AttributeRow] = [
        (at, key, value)
        for at, pairs in zip(positions, attributes, strict=True)
        if pairs
        for key, value in pairs
    ]
    return records, rows


def retry(stream_id: str, batch: Batch, recorded: list[StoredRecord]) -> Appended:
    """The original positions of a retried batch, or EventIdConflictError if it is not a retry."""
    by_id = {record.event_id: record for record in recorded}
    first = by_id.get(batch.event_ids[0])
    for offset, (event_id, event_type, payload, occurred_at) in enumerate(
        zip(batch.event_ids, batch.types, batch.payloads, batch.occurred_at, strict=True)
    ):
        record = by_id.get(event_id)
        if record is None:
            other = next(iter(by_id.values()))
            raise EventIdConflictError(
                f"event id {other.event_id!r} is already recorded (position {other.position}) but "
                f"event id {event_id!r} of the same batch is not; a retry must repeat "
                "the recorded batch exactly; nothing was written"
            )
        differences = [
            name
            for name, stored, given in (
                ("stream", record.stream_id, stream_id),
                ("type", record.type, event_type.name),
                ("schema version", record.schema_version, event_type.version),
                ("payload", record.payload, payload),
                ("occurred_at", record.occurred_at, occurred_at),
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
        range(first.position, first.position + len(batch.news)),
        range(first.version, first.version + len(batch.news)),
        parse_instant(first.recorded_at),
        retried=True,
    )
