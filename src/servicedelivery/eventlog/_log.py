"""The event log's contract and everything backends share: checks, hashing, retries, decoding.

:class:`EventLog` implements the whole public behaviour (what is refused, what is idempotent, what a
record holds) on top of a handful of storage hooks, the methods whose names start with one
underscore and that are marked abstract. A backend implements those hooks, and nothing else needs
to be right for it to be a correct log; ``servicedelivery.testing.EventLogContract`` checks it.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Self

from servicedelivery.errors import (
    ConcurrencyError,
    EventLogError,
    FieldError,
    InvalidTransition,
    ServiceDeliveryError,
    ValidationError,
)
from servicedelivery.eventlog._batch import (
    AttributeRow,
    Batch,
    advance_all,
    check_fit,
    expected_version_of,
    prepare,
    prepare_many,
    records_of,
    records_of_many,
    retry,
)
from servicedelivery.eventlog._columns import (
    EventColumns,
    RawColumns,
    columns_from_raw,
    raw_columns,
)
from servicedelivery.eventlog._decode import collector_paused, decode_records
from servicedelivery.eventlog._instants import instant_at, instant_text
from servicedelivery.eventlog._records import (
    Appended,
    EnvelopeRow,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StoredRecord,
    StreamHead,
    envelope_row,
)
from servicedelivery.eventlog._registry import DEFAULT_REGISTRY, EventRegistry
from servicedelivery.eventlog._replay import PortfolioView, replay
from servicedelivery.eventlog._streams import split_stream_id
from servicedelivery.eventlog._verify import Verification, Verifier
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.model import DEFAULT_TAXONOMY, Taxonomy

__all__ = ["AttributeRow", "Clock", "EventLog", "IdsAlreadyRecorded", "Verification", "utc_now"]

Clock = Callable[[], dt.datetime]
"""Returns the current instant, timezone-aware; the log stamps ``recorded_at`` with it."""


class IdsAlreadyRecorded(Exception):  # noqa: N818 - a signal between the log and its backend
    """Raised by a backend's insert for an event id already recorded; never leaves the log.

    Only backends that declare ``_refuses_recorded_ids`` raise it; the log then rolls the write
    back and decides, by looking the ids up, whether the batch is a retry or a conflict.
    """


def utc_now() -> dt.datetime:
    """The current instant in UTC: the default clock."""
    return dt.datetime.now(dt.UTC)


class EventLog(abc.ABC):
    """An append-only event log: the abstract base of every backend.

    Writers append batches of events to one stream at a time; every batch is checked in full and
    either recorded whole or refused with nothing written. Reads return envelopes
    (:class:`RecordedEvent`) or columns (:class:`EventColumns`). There is no operation that changes
    or removes a recorded event.

    Args:
        lifecycle: The milestone lifecycle appends are checked against.
        taxonomy: The blocked reasons that blocks may name.
        registry: The event types the log records and reads.
        clock: Stamps ``recorded_at``; must return an aware datetime.
    """

    def __init__(
        self,
        *,
        lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        registry: EventRegistry = DEFAULT_REGISTRY,
        clock: Clock = utc_now,
    ) -> None:
        errors = [
            FieldError(name, value, expected)
            for name, value, ok, expected in (
                ("lifecycle", lifecycle, isinstance(lifecycle, Lifecycle), "a Lifecycle"),
                ("taxonomy", taxonomy, isinstance(taxonomy, Taxonomy), "a Taxonomy"),
                ("registry", registry, isinstance(registry, EventRegistry), "an EventRegistry"),
                ("clock", clock, callable(clock), "a callable returning an aware datetime"),
            )
            if not ok
        ]
        if errors:
            raise ValidationError(errors, title=f"invalid {type(self).__name__} options")
        self._lifecycle = lifecycle
        self._taxonomy = taxonomy
        self._registry = registry
        self._clock = clock
        self._closed = False

    @property
    def lifecycle(self) -> Lifecycle:
        """The lifecycle appends are checked against."""
        return self._lifecycle

    @property
    def taxonomy(self) -> Taxonomy:
        """The blocked reasons blocks may name."""
        return self._taxonomy

    @property
    def registry(self) -> EventRegistry:
        """The event types the log records and reads."""
        return self._registry

    # The public contract.

    def append(
        self,
        stream_id: str,
        events: Iterable[NewEvent],
        *,
        expected_version: int | ExpectedVersion = ExpectedVersion.ANY,
    ) -> Appended:
        """Record a batch of events at the end of one stream, atomically.

        The batch is checked in full before anything is written; if any check fails, nothing is
        written. Retrying a batch already recorded (the same event ids with the same content) is not
        an error: it returns where the batch was recorded the first time.

        Args:
            stream_id: The stream, ``"<kind>:<entity id>"``.
            events: The events, in order; at least one.
            expected_version: The stream's version the writer expects (its last version, 0 or
                ``ExpectedVersion.NO_STREAM`` for a new stream), or ``ExpectedVersion.ANY``.

        Returns:
            Where the batch was recorded.

        Raises:
            ValidationError: The stream id, an event or an option is not valid, or an event does
                not fit the stream (wrong kind, an opening event on an existing stream, occurrence time
                going backwards, evidence that is not recorded). Lists every problem.
            UnknownEventTypeError: An event's class is not registered.
            ConcurrencyError: The stream is not at ``expected_version``.
            InvalidTransition: A milestone event the lifecycle does not allow.
            EventIdConflictError: An event id already recorded with other content, or a batch that
                mixes recorded and new events.
        """
        return self._append_batches([(stream_id, events, expected_version)], many=False)[0]

    def append_many(
        self,
        batches: Iterable[tuple[str, Iterable[NewEvent]]],
        *,
        expected_versions: Mapping[str, int | ExpectedVersion] | None = None,
    ) -> list[Appended]:
        """Record batches for several streams in one transaction: all of them, or none.

        Each batch is checked as :meth:`append` checks it, in order; a stream may come more than
        once, each batch following the one before. Nothing is written unless every batch passes,
        and then all of them become visible at once, at consecutive positions in the order given.
        A batch already recorded is a retry, as for ``append``: nothing is written for it and its
        result is where it was recorded. One transaction instead of one per stream is what makes
        loading many small histories (an import, a migration) fast, above all on SQLite.

        Args:
            batches: ``(stream id, events)`` pairs; at least one.
            expected_versions: For some streams, the version the writer expects each to be at
                before this call (as ``append``'s ``expected_version``).

        Returns:
            Where each batch was recorded, in the order given.

        Raises:
            ValidationError, UnknownEventTypeError, ConcurrencyError, InvalidTransition,
            EventIdConflictError: As for ``append``; a note names the batch (``batches[i]``).
                An event id used by two batches of the call is a ``ValidationError``.
        """
        given: object = batches
        pairs: list[Any] = list(given) if isinstance(given, Iterable) else []
        errors = [
            FieldError(f"batches[{index}]", pair, "a (stream id, events) pair")
            for index, pair in enumerate(pairs)
            if not (isinstance(pair, tuple | list) and len(pair) == 2)
        ]
        if not pairs:
            errors.append(FieldError("batches", batches, "a non-empty sequence of pairs"))
        wanted: object = {} if expected_versions is None else expected_versions
        streams = {pair[0] for pair in pairs if not errors and isinstance(pair[0], str)}
        if not isinstance(wanted, Mapping):
            errors.append(
                FieldError("expected_versions", wanted, "a mapping of stream ids to versions")
            )
            wanted = {}
        errors.extend(
            FieldError(f"expected_versions[{stream!r}]", stream, "a stream id of a batch")
            for stream in wanted
            if not errors and stream not in streams
        )
        if errors:
            raise ValidationError(errors, title="invalid append_many; nothing was written")
        requests: list[tuple[str, Iterable[NewEvent], object]] = []
        first_of: set[str] = set()
        for stream_id, events in pairs:
            # A stream's expected version applies to its first batch of the call.
            first = isinstance(stream_id, str) and stream_id not in first_of
            expected = wanted.get(stream_id, ExpectedVersion.ANY) if first else ExpectedVersion.ANY
            requests.append((stream_id, events, expected))
            if first:
                first_of.add(stream_id)
        return self._append_batches(requests, many=True)

    def _append_batches(
        self, requests: list[tuple[str, Iterable[NewEvent], object]], *, many: bool
    ) -> list[Appended]:
        """Check every batch, then record them all in one write transaction (or none)."""
        self._check_open()
        # The records an append builds all outlive it and form no cycles: see collector_paused.
        with collector_paused():
            # Lists, so that a second look (event by event, to report) sees the same events.
            given: list[tuple[str, Any, object]] = [
                (stream_id, _listed(events), expected) for stream_id, events, expected in requests
            ]
            prepared = (self._prepared_together(given) if many else None) or self._prepared(
                given, many=many
            )
            if self._refuses_recorded_ids:
                # Most batches are new: write without looking their ids up first. A batch that
                # turns out to be recorded already, or that the checks refuse (which a retry may
                # be: its stream has moved on since), is rolled back and decided below.
                try:
                    with self._write():
                        return self._record(prepared, many=many, look_up=False)
                except (IdsAlreadyRecorded, ConcurrencyError, ValidationError, InvalidTransition):
                    pass
            with self._write():
                return self._record(prepared, many=many, look_up=True)

    def _prepared(
        self, given: list[tuple[str, Any, object]], *, many: bool
    ) -> list[tuple[str, str, str, Batch, int | ExpectedVersion]]:
        """Each batch checked and encoded on its own; raises with every problem of a batch."""
        prepared = []
        for index, (stream_id, events, expected_version) in enumerate(given):
            try:
                kind, entity = split_stream_id(stream_id)
                batch, expected = prepare(
                    self._registry,
                    stream_id,
                    taxonomy=self._taxonomy,
                    kind=kind,
                    entity=entity,
                    events=events,
                    expected_version=expected_version,
                )
            except ServiceDeliveryError as error:
                _note(error, many, index, stream_id)
                raise
            prepared.append((stream_id, kind, entity, batch, expected))
        if many:
            _check_distinct_ids([batch for _, _, _, batch, _ in prepared])
        return prepared

    def _prepared_together(
        self, given: list[tuple[str, Any, object]]
    ) -> list[tuple[str, str, str, Batch, int | ExpectedVersion]] | None:
        """The batches of ``append_many`` checked and encoded in one pass, when all is fine.

        ``None`` when anything is not: ``_prepared`` then checks each batch to say what.
        """
        heads = []
        for stream_id, events, expected_version in given:
            try:
                kind, entity = split_stream_id(stream_id)
            except ValidationError:
                return None
            errors: list[FieldError] = []
            expected = expected_version_of(expected_version, errors)
            if errors or not isinstance(events, list):
                return None
            heads.append((stream_id, kind, entity, expected))
        batches = prepare_many(
            self._registry,
            self._taxonomy,
            [
                (kind, entity, events)
                for (_, kind, entity, _), (_, events, _) in zip(heads, given, strict=True)
            ],
        )
        if batches is None:
            return None
        return [
            (stream_id, kind, entity, batch, expected)
            for (stream_id, kind, entity, expected), batch in zip(heads, batches, strict=True)
        ]

    def _record(
        self,
        prepared: list[tuple[str, str, str, Batch, int | ExpectedVersion]],
        *,
        many: bool,
        look_up: bool,
    ) -> list[Appended]:
        """Fit the prepared batches to the log, then write them (inside the write transaction).

        With ``look_up``, batches whose ids are recorded already are found first: retries return
        where they were recorded, and conflicts raise. Without it, they are not looked for: the
        backend's ``_insert`` raises :class:`IdsAlreadyRecorded` for them.
        """
        results: list[Appended | None] = [None] * len(prepared)
        writes: list[tuple[int, str, Batch, int, StreamHead]] = []
        heads: dict[str, StreamHead | None] = {}  # the streams as this call leaves them
        written: set[str] = set()  # the event ids of the batches to write

        def recorded(event_ids: Sequence[str]) -> set[str]:
            # Evidence may cite an event of an earlier batch of the same call.
            found = {record.event_id for record in self._records_by_id(event_ids)}
            return found | written.intersection(event_ids)

        # One look for retries of the whole call, rather than one per batch.
        retries = look_up and (
            not many
            or bool(
                self._records_by_id([i for _, _, _, batch, _ in prepared for i in batch.event_ids])
            )
        )
        for index, (stream_id, kind, entity, batch, expected) in enumerate(prepared):
            try:
                if retries and (done := self._records_by_id(batch.event_ids)):
                    results[index] = retry(stream_id, batch, done)
                    continue
                head = heads[stream_id] if stream_id in heads else self._stream_head(stream_id)
                version = 0 if head is None else head.version
                if expected is not ExpectedVersion.ANY and version != expected:
                    raise ConcurrencyError(stream_id=stream_id, expected=expected, actual=version)
                check_fit(stream_id, batch, head, recorded)
                state = advance_all(
                    self._lifecycle,
                    self._taxonomy,
                    kind=kind,
                    entity=entity,
                    batch=batch,
                    state=None if head is None else head.state,
                )
            except ServiceDeliveryError as error:
                _note(error, many, index, stream_id)
                raise
            count = len(batch.news)
            heads[stream_id] = new_head = StreamHead(
                stream_id, version + count, state, batch.occurred_ns[-1]
            )
            writes.append((index, stream_id, batch, version, new_head))
            if many:
                written.update(batch.event_ids)
        if writes:
            self._write_all(writes, results)
        return [result for result in results if result is not None]

    def _write_all(
        self,
        writes: list[tuple[int, str, Batch, int, StreamHead]],
        results: list[Appended | None],
    ) -> None:
        """Stamp, hash-chain and insert batches that passed every check, in order."""
        instant, recorded_at, recorded_ns = self._now()
        position, previous = self._last()
        if len(writes) == 1:
            _, stream_id, batch, version, _ = writes[0]
            made = [
                records_of(
                    batch,
                    stream_id=stream_id,
                    version=version,
                    position=position,
                    previous=previous,
                    recorded_at=recorded_at,
                    recorded_ns=recorded_ns,
                )
            ]
        else:
            made = records_of_many(
                [batch for _, _, batch, _, _ in writes],
                stream_ids=[stream_id for _, stream_id, _, _, _ in writes],
                versions=[version for _, _, _, version, _ in writes],
                position=position,
                previous=previous,
                recorded_at=recorded_at,
                recorded_ns=recorded_ns,
            )
        stamp = instant_at(instant)
        for index, stream_id, batch, version, _ in writes:
            count = len(batch.news)
            results[index] = Appended(
                stream_id,
                range(position + 1, position + count + 1),
                range(version + 1, version + count + 1),
                stamp,
            )
            position += count
        if len(writes) == 1:
            self._insert(*made[0], writes[0][4])
        else:
            self._insert_many(
                [
                    (records, rows, write[4])
                    for write, (records, rows) in zip(writes, made, strict=True)
                ]
            )

    def read_stream(
        self, stream_id: str, *, from_version: int = 1, limit: int | None = None
    ) -> list[RecordedEvent]:
        """The events of one stream from ``from_version``, in order (empty for an unknown stream).

        Raises:
            ValidationError: A malformed stream id or option.
        """
        self._check_open()
        split_stream_id(stream_id)
        _check_counts(from_version=(from_version, 1), limit=(limit, 0))
        with collector_paused():
            rows = self._select_stream_envelopes(stream_id, from_version, limit)
            return decode_records(self._registry, rows)

    def read_all(self, *, from_position: int = 0, limit: int | None = None) -> list[RecordedEvent]:
        """Every event from global position ``from_position`` on, in position order.

        Args:
            from_position: The first position to return (positions start at 1).
            limit: At most this many events.
        """
        self._check_open()
        _check_counts(from_position=(from_position, 0), limit=(limit, 0))
        with collector_paused():
            return decode_records(self._registry, self._select_envelopes(from_position, limit))

    def head(self) -> int:
        """The last global position (0 for an empty log)."""
        self._check_open()
        return self._last()[0]

    def stream_version(self, stream_id: str) -> int:
        """The stream's last version (0 when it has no events)."""
        self._check_open()
        split_stream_id(stream_id)
        head = self._stream_head(stream_id)
        return 0 if head is None else head.version

    def read_columns(self, *, from_position: int = 0) -> EventColumns:
        """Every record from ``from_position`` on as aligned numpy arrays, for metrics and replay.

        Raises:
            UnknownEventTypeError: A stored type the log's registry does not know.
            ValidationError: A stored trigger or reason the log's lifecycle or taxonomy does not know.
        """
        self._check_open()
        _check_counts(from_position=(from_position, 0))
        with self._read():
            raw = self._select_columns(from_position)
        return columns_from_raw(
            raw,
            kinds=self._registry.names,
            triggers=self._lifecycle.trigger_names,
            reasons=self._taxonomy.codes,
        )

    def portfolio(self, *, as_of: dt.datetime | int | None = None) -> PortfolioView:
        """Every milestone's situation at the end of the log, or as of a past instant.

        Shorthand for ``replay(log.read_columns(), lifecycle=..., taxonomy=..., as_of=as_of)``.
        """
        return replay(
            self.read_columns(), lifecycle=self._lifecycle, taxonomy=self._taxonomy, as_of=as_of
        )

    def verify(self, *, anchor: Verification | None = None) -> Verification:
        """Check every record: positions, versions, the hash chain, payloads and derived columns.

        Also replays each milestone through the lifecycle and checks the stream index that appends
        rely on.

        Args:
            anchor: A result of an earlier ``verify`` kept outside the log; the record at its
                position must still carry its hash.

        Returns:
            How many records were checked and the last hash, to keep as the next anchor.

        Raises:
            IntegrityError: At the first position where something does not hold, with the reason.
        """
        self._check_open()
        with self._read():
            return Verifier(self).run(anchor)

    def close(self) -> None:
        """Release the backend's resources; the log cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Storage hooks: what a backend implements.

    _refuses_recorded_ids: bool = False
    """Whether ``_insert`` and ``_insert_many`` raise :class:`IdsAlreadyRecorded` for an event id
    already recorded (as the SQLite backend's unique index does), leaving the transaction to roll
    back. Appends then skip looking the batch's ids up before writing. False by default: the log
    looks them up first, and a backend's inserts are never given a recorded id."""

    @abc.abstractmethod
    def _write(self) -> AbstractContextManager[None]:
        """A write transaction: exclusive against every other writer, even in other processes.

        Everything the hooks write inside it becomes visible at once when it exits normally, and
        nothing of it when it exits with an exception.
        """

    @abc.abstractmethod
    def _read(self) -> AbstractContextManager[None]:
        """A read snapshot: hooks called inside it see one state of the log."""

    @abc.abstractmethod
    def _last(self) -> tuple[int, str]:
        """The last position and its hash; ``(0, GENESIS)`` for an empty log."""

    @abc.abstractmethod
    def _stream_head(self, stream_id: str) -> StreamHead | None:
        """Where the stream stands, or ``None`` when it has no events."""

    @abc.abstractmethod
    def _records_by_id(self, event_ids: Sequence[str]) -> list[StoredRecord]:
        """The stored records with these event ids (those that exist), in any order."""

    @abc.abstractmethod
    def _insert(
        self, records: Sequence[StoredRecord], attributes: Sequence[AttributeRow], head: StreamHead
    ) -> None:
        """Store the records and their attribute rows, and the stream's new head."""

    def _insert_many(
        self, writes: Sequence[tuple[Sequence[StoredRecord], Sequence[AttributeRow], StreamHead]]
    ) -> None:
        """``_insert`` of several batches in order, in one write transaction (``append_many``).

        By default one ``_insert`` after the other; a backend that can store them all at once
        overrides it.
        """
        for records, attributes, head in writes:
            self._insert(records, attributes, head)

    @abc.abstractmethod
    def _select_stream(
        self, stream_id: str, from_version: int, limit: int | None
    ) -> list[StoredRecord]:
        """The stream's records from ``from_version``, by version, at most ``limit``."""

    @abc.abstractmethod
    def _select_all(self, from_position: int, limit: int | None) -> list[StoredRecord]:
        """The records from ``from_position``, by position, at most ``limit``."""

    def _select_stream_envelopes(
        self, stream_id: str, from_version: int, limit: int | None
    ) -> list[EnvelopeRow]:
        """``_select_stream``'s records as envelope rows (all that ``read_stream`` decodes).

        By default cut from ``_select_stream``'s records; a backend that can fetch fewer columns (as
        the SQLite backend does) overrides this.
        """
        return list(map(envelope_row, self._select_stream(stream_id, from_version, limit)))

    def _select_envelopes(self, from_position: int, limit: int | None) -> list[EnvelopeRow]:
        """``_select_all``'s records as envelope rows (all that ``read_all`` decodes).

        By default cut from ``_select_all``'s records; a backend that can fetch fewer columns (as
        the SQLite backend does) overrides this.
        """
        return list(map(envelope_row, self._select_all(from_position, limit)))

    @abc.abstractmethod
    def _select_attributes(self, from_position: int, to_position: int) -> list[AttributeRow]:
        """The attribute rows of positions ``from_position`` to ``to_position`` (inclusive)."""

    def _select_columns(self, from_position: int) -> RawColumns:
        """The records from ``from_position`` as columns, in position order.

        By default built from ``_select_all`` and ``_select_attributes``; a backend that can read
        its columns directly into arrays (as the SQLite backend does) overrides this.
        """
        records = self._select_all(from_position, None)
        first = max(from_position, 1)
        last = records[-1].position if records else first - 1
        return raw_columns(records, self._select_attributes(first, last))

    @abc.abstractmethod
    def _stream_heads(self) -> list[StreamHead]:
        """The head of every stream, in any order."""

    def _close(self) -> None:  # noqa: B027 - a hook with nothing to release by default
        """Release resources (nothing by default)."""

    # The shared machinery.

    def _check_open(self) -> None:
        if self._closed:
            raise EventLogError(f"this {type(self).__name__} is closed")

    def _now(self) -> tuple[dt.datetime, str, int]:
        instant: object = self._clock()
        if not isinstance(instant, dt.datetime) or instant.utcoffset() is None:
            raise ValidationError.single(
                "clock()", instant, "a timezone-aware datetime (the log's clock returned this)"
            )
        return (instant, *instant_text(instant))


def _check_counts(**options: tuple[object, int]) -> None:
    errors = [
        FieldError(name, value, f"an integer >= {least}")
        for name, (value, least) in options.items()
        if value is not None
        and (not isinstance(value, int) or isinstance(value, bool) or value < least)
    ]
    if errors:
        raise ValidationError(errors)


def _listed(events: object) -> object:
    """The events as a list (an iterator is read once), or the bad value for the checks to name."""
    return list(events) if isinstance(events, Iterable) else events


def _note(error: ServiceDeliveryError, many: bool, index: int, stream_id: str) -> None:
    """Add the batch's place to an error raised for one batch of ``append_many``."""
    if many:
        error.add_note(f"batches[{index}] ({stream_id!r}) of append_many; nothing was written")


def _check_distinct_ids(batches: list[Batch]) -> None:
    """Refuse an event id used by two batches of one ``append_many`` call."""
    ids = [event_id for batch in batches for event_id in batch.event_ids]
    if len(set(ids)) == len(ids):
        return
    first: dict[str, int] = {}
    for index, batch in enumerate(batches):
        for position, event_id in enumerate(batch.event_ids):
            if event_id in first and first[event_id] != index:
                raise ValidationError.single(
                    f"batches[{index}].events[{position}].event_id",
                    event_id,
                    f"an id not already used by batches[{first[event_id]}] of the call; "
                    "nothing was written",
                )
            first.setdefault(event_id, index)
