"""Verification: every record checked against the records before it, and against its own payload."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from servicedelivery.errors import IntegrityError, ValidationError
from servicedelivery.eventlog._batch import advance
from servicedelivery.eventlog._chain import GENESIS, chain_text_of, record_hash
from servicedelivery.eventlog._decode import decode_payload
from servicedelivery.eventlog._derived import Derived, derive
from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._instants import parse_epoch_ns
from servicedelivery.eventlog._records import StoredRecord, StreamHead
from servicedelivery.eventlog._streams import StreamKind, split_stream_id

if TYPE_CHECKING:
    from servicedelivery.eventlog._log import EventLog

__all__ = ["Verification", "Verifier"]

_CACHED = 65_536  # distinct payloads and instants remembered while walking; memory stays bounded


@attrs.frozen
class Verification:
    """The result of a successful :meth:`EventLog.verify`.

    Keep it (or its ``last_hash``) outside the log: passing it back as ``anchor`` to a later
    ``verify`` proves that nothing recorded up to ``last_position`` was rewritten since, even by
    someone who recomputed the whole chain.

    Attributes:
        records: How many records were checked.
        last_position: The last position checked (0 for an empty log).
        last_hash: Its hash (64 zeros for an empty log).
    """

    records: int
    last_position: int
    last_hash: str


class Verifier:
    """Walks the log once, in pages, checking every record against the one before it."""

    _PAGE = 5_000

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.position = 0
        self.previous = GENESIS
        self.heads: dict[str, StreamHead] = {}
        self.last_positions: dict[str, int] = {}
        # Equal stored texts decode to equal values: each distinct one is checked once.
        self.events: dict[tuple[str, int, str], tuple[Event, Derived]] = {}
        self.instants: dict[str, int] = {}

    def run(self, anchor: Verification | None) -> Verification:
        log = self.log
        anchor_hash: str | None = None
        while True:
            page = log._select_all(self.position + 1, self._PAGE)
            if not page:
                break
            rows = log._select_attributes(page[0].position, page[-1].position)
            by_position: dict[int, list[tuple[str, str]]] = {}
            for position, key, value in rows:
                by_position.setdefault(position, []).append((key, value))
            for record in page:
                self._check(record, sorted(by_position.pop(record.position, ())))
                if anchor is not None and record.position == anchor.last_position:
                    anchor_hash = record.hash
            if by_position:
                stray = min(by_position)
                raise IntegrityError(
                    f"position {stray}: attribute rows for a position with no record",
                    position=stray,
                )
        self._check_heads()
        if anchor is not None and anchor.last_position > 0 and anchor_hash != anchor.last_hash:
            raise IntegrityError(
                f"position {anchor.last_position}: the record no longer carries the anchored hash "
                f"{anchor.last_hash} (found {anchor_hash or 'no record'}); the log was rewritten",
                position=min(anchor.last_position, self.position + 1),
            )
        return Verification(self.position, self.position, self.previous)

    def _fail(self, record: StoredRecord, problem: str) -> IntegrityError:
        return IntegrityError(f"position {record.position}: {problem}", position=record.position)

    def _check(self, record: StoredRecord, attributes: list[tuple[str, str]]) -> None:
        log = self.log
        if record.position != self.position + 1:
            raise IntegrityError(
                f"position {self.position + 1}: missing (the next record is at {record.position})",
                position=self.position + 1,
            )
        text = chain_text_of(record, self.previous)
        if record_hash(text) != record.hash:
            raise self._fail(record, "the hash does not match the record and the chain before it")
        head = self.heads.get(record.stream_id)
        version = 0 if head is None else head.version
        if record.version != version + 1:
            raise self._fail(record, f"version {record.version} follows version {version}")
        try:
            kind, entity = split_stream_id(record.stream_id)
            event, derived = self._event(record)
            occurred_ns = self._ns(record.occurred_at)
            recorded_ns = self._ns(record.recorded_at)
        except (ValidationError, IntegrityError, ValueError) as error:
            raise self._fail(record, str(error)) from error
        event_type = log.registry.type_of(event)
        if event_type.cls.stream_kind != kind:
            raise self._fail(record, f"a {record.type} event in a {kind!r} stream")
        stored = (
            record.occurred_ns,
            record.recorded_ns,
            record.trigger,
            record.owner,
            record.reason,
            bool(record.override),
            record.target_ns,
            record.sequence,
            attributes,
        )
        expected = (
            occurred_ns,
            recorded_ns,
            derived.trigger,
            derived.owner,
            derived.reason,
            derived.override,
            derived.target_ns,
            derived.sequence,
            sorted(derived.attributes),
        )
        if stored != expected:
            names = [
                "occurred_ns",
                "recorded_ns",
                "trigger",
                "owner",
                "reason",
                "override",
                "target_ns",
                "sequence",
                "attributes",
            ]
            wrong = [n for n, s, e in zip(names, stored, expected, strict=True) if s != e]
            raise self._fail(record, f"derived columns disagree with the payload: {wrong}")
        opens = event_type.cls.opens_stream
        if (opens is True and version > 0) or (opens is False and version == 0):
            raise self._fail(record, f"a {record.type} event at version {record.version}")
        if head is not None and occurred_ns < head.last_occurred_ns:
            raise self._fail(record, "occurred before the stream's previous event")
        state = None if head is None else head.state
        if kind == StreamKind.MILESTONE:
            try:
                state = advance(log.lifecycle, log.taxonomy, state, event, entity)
            except Exception as error:
                raise self._fail(record, f"an illegal transition: {error}") from error
        self.heads[record.stream_id] = StreamHead(
            record.stream_id, record.version, state, occurred_ns
        )
        self.last_positions[record.stream_id] = record.position
        self.position = record.position
        self.previous = record.hash

    def _event(self, record: StoredRecord) -> tuple[Event, Derived]:
        key = (record.type, record.schema_version, record.payload)
        found = self.events.get(key)
        if found is None:
            if len(self.events) >= _CACHED:
                self.events.clear()
            event = decode_payload(self.log.registry, record, checked=True)
            found = self.events[key] = (event, derive(event))
        return found

    def _ns(self, text: str) -> int:
        ns = self.instants.get(text)
        if ns is None:
            if len(self.instants) >= _CACHED:
                self.instants.clear()
            ns = self.instants[text] = parse_epoch_ns(text)
        return ns

    def _check_heads(self) -> None:
        stored = {head.stream_id: head for head in self.log._stream_heads()}
        for stream_id in sorted(set(stored) | set(self.heads)):
            index, records = stored.get(stream_id), self.heads.get(stream_id)
            if index != records:
                # An index ahead of the records means records are missing after the last one;
                # otherwise the index is wrong about the stream's last record.
                ahead = index is not None and (records is None or index.version > records.version)
                position = self.position + 1 if ahead else self.last_positions.get(stream_id, 0)
                raise IntegrityError(
                    f"position {position}: the stream index says {index}, the records say "
                    f"{records}",
                    position=position,
                )
