"""What goes into the log and what comes out: new events, envelopes, stored rows, append results.

:class:`NewEvent` is what a writer hands to ``append``: the event, when it happened in business
time, and who entered it. The log gives it a place: a version in its stream, a global position, the
time it was recorded and a hash chained to the record before it. Reads return
:class:`RecordedEvent` envelopes. :class:`StoredRecord` is the same record as plain values, the row
a backend stores; host backends deal only in those.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import StrEnum, unique
from typing import Any, NamedTuple, overload

import attrs
import pendulum

from servicedelivery.errors import MISSING, FieldError, UnknownEventTypeError, ValidationError
from servicedelivery.eventlog._events import Event, to_uuid_text, uuid_text
from servicedelivery.eventlog._ids import uuid7_text
from servicedelivery.eventlog._registry import DEFAULT_REGISTRY, EventRegistry
from servicedelivery.model import structure
from servicedelivery.model._definitions import unknown_keys
from servicedelivery.model._validation import (
    Validated,
    aware_datetime,
    checked,
    identifier,
    instance_of,
    optional,
    to_instant,
)

__all__ = [
    "Appended",
    "EnvelopeRow",
    "ExpectedVersion",
    "NewEvent",
    "RecordColumns",
    "RecordedEvent",
    "StoredRecord",
    "StreamHead",
    "envelope_row",
    "stored_record",
]


@unique
class ExpectedVersion(StrEnum):
    """What a writer expects of a stream, besides an exact version number."""

    ANY = "any"
    """Whatever the stream's version, including no stream yet."""
    NO_STREAM = "no_stream"
    """The stream does not exist yet (the same as expecting version 0)."""


@attrs.frozen
class NewEvent(Validated):
    """An event to record, with the facts of its envelope that the writer knows.

    The event id is drawn when the ``NewEvent`` is built, so that appending the same ``NewEvent``
    again is a retry that the log recognizes, not a second record.

    Attributes:
        event: The domain event.
        occurred_at: When it happened in occurrence time (timezone-aware). Within a stream, events
            must not go back in time.
        event_id: Its id, a UUID of any version; unless given, a fresh time-ordered one
            (:func:`uuid7_text`), which keeps the log's index of ids compact and its appends fast.
        actor: Who entered it: a person's or a system's id. Events may be entered by hand.
        source: Where it came from, such as ``"manual"``, ``"servicenow"`` or a policy's name.
        correlation_id: An id shared by events of one conversation or job.
        causation_id: The id of the event or command that caused this one.
    """

    event: Event = checked(instance_of(Event, name="registered Event instance"))
    occurred_at: pendulum.DateTime = checked(aware_datetime, converter=to_instant, kw_only=True)
    event_id: str = checked(uuid_text, converter=to_uuid_text, factory=uuid7_text, kw_only=True)
    actor: str | None = checked(optional(identifier), default=None, kw_only=True)
    source: str | None = checked(optional(identifier), default=None, kw_only=True)
    correlation_id: str | None = checked(optional(identifier), default=None, kw_only=True)
    causation_id: str | None = checked(optional(identifier), default=None, kw_only=True)

    @classmethod
    def from_data(cls, data: object, *, registry: EventRegistry = DEFAULT_REGISTRY) -> NewEvent:
        """A new event from plain data, as a form, a queue or a file delivers it.

        The data is ``{"type", "payload", "occurred_at"}`` with optional ``"schema_version"``
        (the payload is upcast from it; the current version by default), ``"event_id"``,
        ``"actor"``, ``"source"``, ``"correlation_id"`` and ``"causation_id"``.

        Raises:
            UnknownEventTypeError: The type or schema version is unknown.
            ValidationError: Listing every bad field with its path, the payload's under ``payload``.
        """
        if not isinstance(data, Mapping):
            raise ValidationError.single("", data, "a mapping with type, payload and occurred_at")
        errors = unknown_keys(data, _DATA_KEYS)
        unknown = False
        event: Event | None = None
        if "type" not in data or "payload" not in data:
            errors.extend(
                FieldError(key, MISSING, "a value")
                for key in ("type", "payload")
                if key not in data
            )
        else:
            try:
                event = registry.decode(
                    data["type"], data["payload"], schema_version=data.get("schema_version")
                )
            except UnknownEventTypeError as error:
                unknown = True
                errors.extend(error.errors)
            except ValidationError as error:
                errors.extend(error.errors)
        envelope: dict[str, object] = {}
        try:
            given = structure({k: data[k] for k in _ENVELOPE_KEYS if k in data}, _Envelope)
            envelope = attrs.asdict(given, recurse=False)
        except ValidationError as error:
            errors.extend(error.errors)
        if errors or event is None:
            raise (UnknownEventTypeError if unknown else ValidationError)(
                errors, title="invalid new event"
            )
        return cls(event, **envelope)  # type: ignore[arg-type]


_ENVELOPE_KEYS = ("occurred_at", "event_id", "actor", "source", "correlation_id", "causation_id")
_DATA_KEYS = ("type", "schema_version", "payload", *_ENVELOPE_KEYS)


@attrs.frozen(kw_only=True)
class _Envelope(Validated):
    """The envelope fields of :meth:`NewEvent.from_data`, structured by the converter."""

    occurred_at: pendulum.DateTime = checked(aware_datetime, converter=to_instant)
    event_id: str = checked(uuid_text, converter=to_uuid_text, factory=uuid7_text)
    actor: str | None = checked(optional(identifier), default=None)
    source: str | None = checked(optional(identifier), default=None)
    correlation_id: str | None = checked(optional(identifier), default=None)
    causation_id: str | None = checked(optional(identifier), default=None)


class RecordedEvent(NamedTuple):
    """A recorded event in its envelope, as reads return it.

    A named tuple rather than an attrs class because reads build hundreds of thousands of them: it
    is immutable, typed, and three to five times cheaper to build.

    Attributes:
        position: Its global position: from 1, without gaps, in commit order.
        stream_id: The stream it belongs to (``"milestone:M-1"``).
        version: Its version within the stream: from 1, without gaps.
        event_id: Its id (a UUID).
        type: Its registered type name (``"milestone.blocked"``).
        schema_version: The schema version it was written at; ``event`` is upcast to the current one.
        event: The domain event.
        occurred_at: When it happened, in occurrence time, at the offset it was given with.
        recorded_at: When the log recorded it, from the log's clock.
        actor: Who entered it, if known.
        source: Where it came from, if known.
        correlation_id: The correlation id, if any.
        causation_id: The causation id, if any.
        hash: The record's SHA-256, chained to the record before it (hex).
    """

    position: int
    stream_id: str
    version: int
    event_id: str
    type: str
    schema_version: int
    event: Event
    occurred_at: pendulum.DateTime
    recorded_at: pendulum.DateTime
    actor: str | None
    source: str | None
    correlation_id: str | None
    causation_id: str | None
    hash: str


class StoredRecord(NamedTuple):
    """One record as a backend stores it: plain values only.

    The first thirteen fields are the record itself, which the hash covers (in the order of the
    chain's text); then the hash; then facts derived from the record that columnar reads need
    (``verify`` checks that they still agree with the payload).

    Attributes:
        position: Global position, from 1, gap-free.
        event_id: The event's UUID.
        stream_id: The stream id.
        version: Version within the stream, from 1, gap-free.
        type: Registered type name.
        schema_version: Schema version of ``payload``.
        payload: The event's data, canonical JSON.
        occurred_at: ISO 8601 text with offset.
        recorded_at: ISO 8601 text with offset.
        actor: Who entered it, or ``None``.
        source: Where it came from, or ``None``.
        correlation_id: Correlation id, or ``None``.
        causation_id: Causation id, or ``None``.
        hash: SHA-256 (hex) of the canonical record including the previous record's hash.
        occurred_ns: ``occurred_at`` in ns since the epoch.
        recorded_ns: ``recorded_at`` in ns since the epoch.
        trigger: The lifecycle trigger the event fires, or ``None``.
        owner: The owner it names (an ``Owner`` value), or ``None``.
        reason: The blocked reason code it names, or ``None``.
        override: Whether it overrides the reason's default owner.
        target_ns: The target date it sets (planned or target-date events), or ``None``.
        sequence: The milestone's sequence (planned events), or ``None``.
    """

    position: int
    event_id: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    payload: str
    occurred_at: str
    recorded_at: str
    actor: str | None
    source: str | None
    correlation_id: str | None
    causation_id: str | None
    hash: str
    occurred_ns: int
    recorded_ns: int
    trigger: str | None
    owner: str | None
    reason: str | None
    override: bool
    target_ns: int | None
    sequence: int | None


stored_record: Callable[[tuple[Any, ...]], StoredRecord] = functools.partial(
    tuple.__new__, StoredRecord
)
"""A record from a tuple of its fields, in StoredRecord's order, without a Python call per record.

``StoredRecord._make`` and the named tuple's own constructor are Python functions; backends and
appends build hundreds of thousands of records.
"""


class RecordColumns(Sequence[StoredRecord]):
    """The records of a batch as columns: what appends hand to ``_insert`` and ``_insert_many``.

    A sequence of :class:`StoredRecord` for backends that take rows (host backends need not know
    it is anything else): the rows are made on first use, all at once. The built-in backends read
    ``columns`` instead, one list per field in StoredRecord's order, and never make the rows.

    Attributes:
        columns: The 22 columns, each a list as long as the batch.
    """

    __slots__ = ("_rows", "columns")

    def __init__(self, columns: Sequence[list[Any]]) -> None:
        self.columns = columns
        self._rows: list[StoredRecord] | None = None

    @classmethod
    def of(cls, records: Sequence[StoredRecord]) -> RecordColumns:
        """The records' columns (as they are, when they are a ``RecordColumns`` already)."""
        if isinstance(records, RecordColumns):
            return records
        return cls([list(column) for column in zip(*records, strict=True)] or [[]] * 22)

    @classmethod
    def joined(cls, parts: Sequence[Sequence[StoredRecord]]) -> RecordColumns:
        """The records of several batches, one after the other, as one ``RecordColumns``."""
        if len(parts) == 1:
            return cls.of(parts[0])
        chain = itertools.chain.from_iterable
        return cls([list(chain(column)) for column in zip(*map(_columns_of, parts), strict=True)])

    def part(self, start: int, stop: int) -> RecordColumns:
        """The records from ``start`` to ``stop`` (indexes into this batch)."""
        return RecordColumns([column[start:stop] for column in self.columns])

    @property
    def rows(self) -> list[StoredRecord]:
        """The records as rows, made once."""
        if self._rows is None:
            self._rows = list(map(stored_record, zip(*self.columns, strict=True)))
        return self._rows

    def __len__(self) -> int:
        return len(self.columns[0])

    @overload
    def __getitem__(self, index: int) -> StoredRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[StoredRecord]: ...

    def __getitem__(self, index: int | slice) -> StoredRecord | list[StoredRecord]:
        return self.rows[index]

    def __iter__(self) -> Iterator[StoredRecord]:
        return iter(self.rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordColumns):
            return list(self.columns) == list(other.columns)
        return isinstance(other, list) and self.rows == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<RecordColumns: {len(self)} records>"


def _columns_of(records: Sequence[StoredRecord]) -> Sequence[list[Any]]:
    return RecordColumns.of(records).columns


EnvelopeRow = tuple[Any, ...]
"""The first fourteen fields of a stored record (through ``hash``): all that a read decodes.

Backends may hand reads these instead of whole records (``EventLog._select_envelopes``): the SQLite
backend then fetches only these columns.
"""

envelope_row: Callable[[tuple[Any, ...]], EnvelopeRow] = operator.itemgetter(slice(0, 14))
"""The envelope row of a stored record (a C-level slice)."""


class StreamHead(NamedTuple):
    """Where a stream stands: what an append needs to know without reading the stream.

    Attributes:
        stream_id: The stream.
        version: Its last version (0 for a stream with no events).
        state: For milestone streams, the lifecycle state after its last event; else ``None``.
        last_occurred_ns: When its last event occurred, in ns since the epoch.
    """

    stream_id: str
    version: int
    state: str | None
    last_occurred_ns: int


@attrs.frozen
class Appended:
    """Where an appended batch was recorded.

    A retry of a batch already recorded returns where it was recorded the first time, with
    ``retried`` set.

    Attributes:
        stream_id: The stream written to.
        positions: The batch's global positions (contiguous: a batch is one transaction).
        versions: Its versions in the stream.
        recorded_at: When it was recorded.
        retried: Whether the batch had already been recorded and nothing new was written.
    """

    stream_id: str
    positions: range
    versions: range
    recorded_at: pendulum.DateTime
    retried: bool = False

    @property
    def version(self) -> int:
        """The stream's version after the batch: pass it as the next ``expected_version``."""
        return self.versions[-1]
