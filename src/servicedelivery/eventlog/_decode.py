"""Stored records back into envelopes: payloads decoded and upcast, instants rebuilt."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import repeat
from operator import is_, itemgetter
from typing import Any

import pendulum

from servicedelivery.errors import (
    IntegrityError,
    ServiceDeliveryError,
    UnknownEventTypeError,
    ValidationError,
)
from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._fast import fast_builder, parse_payload
from servicedelivery.eventlog._instants import parse_instant
from servicedelivery.eventlog._records import RecordedEvent, StoredRecord
from servicedelivery.eventlog._registry import EventRegistry

__all__ = ["collector_paused", "decode_payload", "decode_records"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a read fetches and decodes, if it was on.

    A read builds a few objects per record that all outlive it (the row, the envelope, its event
    and instants) and that form no reference cycle; with the collector on, every few hundred of them
    trigger a collection that finds nothing to free, and the full collections among them walk the
    whole heap, so that large reads ran up to twice as slow. The collector is process-wide: it is
    turned back on when the read ends, whatever happens (cycles made meanwhile, by any thread, are
    collected then), and left alone if it was off.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_KEY = itemgetter(4, 5, 6)  # type, schema_version, payload
_OCCURRED, _RECORDED = itemgetter(7), itemgetter(8)


def decode_records(registry: EventRegistry, records: Iterable[StoredRecord]) -> list[RecordedEvent]:
    """Envelopes of stored records, their payloads decoded (and upcast) by ``registry``.

    Decoded column-wise: each distinct payload is decoded once, type by type, and each
    distinct instant text parsed once (most payloads repeat: every start, every completion, every
    block for a common reason; the events of a batch share their recorded_at). If anything does not
    decode, the records are decoded one by one so that the first bad record is the one reported.

    Raises:
        UnknownEventTypeError: A stored type the registry does not know.
        IntegrityError: A stored payload that does not decode, or an instant that does not parse.
    """
    rows = records if isinstance(records, list) else list(records)
    keys = list(map(_KEY, rows))
    occurred = list(map(_OCCURRED, rows))
    recorded = list(map(_RECORDED, rows))
    try:
        events = _decode_distinct(registry, keys)
        texts = dict.fromkeys(occurred)
        texts.update(dict.fromkeys(recorded))
        instants = dict(zip(texts, map(parse_instant, texts), strict=True))
    except (ServiceDeliveryError, ValueError):
        return _decode_each(registry, rows)
    new = tuple.__new__
    # Built as a tuple from the record's fields (see StoredRecord for their order): the named
    # tuple's own constructor is a Python function and costs as much again.
    return [
        new(
            RecordedEvent,
            (r[0], r[2], r[3], r[1], r[4], r[5], event, at, on, r[9], r[10], r[11], r[12], r[13]),
        )
        for r, event, at, on in zip(
            rows,
            map(events.__getitem__, keys),
            map(instants.__getitem__, occurred),
            map(instants.__getitem__, recorded),
            strict=True,
        )
    ]


def _decode_distinct(
    registry: EventRegistry, keys: list[tuple[str, int, str]]
) -> dict[tuple[str, int, str], Event]:
    """The event of each distinct (type, schema version, payload), decoded type by type."""
    payloads: dict[tuple[str, int], list[str]] = {}
    for name, version, payload in dict.fromkeys(keys):
        payloads.setdefault((name, version), []).append(payload)
    events: dict[tuple[str, int, str], Event] = {}
    for (name, version), texts in payloads.items():
        built = _decode_payloads(registry, name, version, texts)
        events.update(zip(zip(repeat(name), repeat(version), texts), built, strict=True))
    return events


def _decode_payloads(
    registry: EventRegistry, name: str, version: int, texts: list[str]
) -> list[Event]:
    """The events of payloads of one type and schema version, in order.

    All are built by the type's fast builder if all are of the usual shape, else each goes through
    ``decode_payload``'s path.
    """
    event_type = registry.get(name)
    build = fast_builder(event_type.cls) if version == event_type.version else None
    if build is not None:
        try:
            built: list[Event | None] = list(map(build, map(parse_payload, texts)))
        except Exception:  # not JSON: each payload's own path says which (as _decode does)
            built = [None]
        if not any(map(is_, built, repeat(None))):
            return built  # type: ignore[return-value]
    # Position 0: a payload that does not decode makes the read decode record by record, which
    # reports the first bad record's position.
    return [_decode(registry, name, version, text, 0, checked=False) for text in texts]


def _decode_each(registry: EventRegistry, records: list[StoredRecord]) -> list[RecordedEvent]:
    """``decode_records`` one record after the other, raising the first bad record's error."""
    result: list[RecordedEvent] = []
    for record in records:
        event = decode_payload(registry, record)
        occurred, recorded = _instant(record, "occurred_at"), _instant(record, "recorded_at")
        result.append(
            RecordedEvent(
                record.position,
                record.stream_id,
                record.version,
                record.event_id,
                record.type,
                record.schema_version,
                event,
                occurred,
                recorded,
                *record[9:14],
            )
        )
    return result


def _instant(record: StoredRecord, field: str) -> pendulum.DateTime:
    try:
        return parse_instant(getattr(record, field))
    except ValueError as error:
        raise IntegrityError(
            f"position {record.position}: the stored {field} does not parse: {error}",
            position=record.position,
        ) from error


def decode_payload(
    registry: EventRegistry, record: StoredRecord, *, checked: bool = False
) -> Event:
    """The event a stored record holds; a payload that does not decode is corruption.

    A payload of the current schema version and of the usual shape is built by its class's fast
    builder (see ``_fast``), which with ``checked`` (as ``verify`` asks) runs every check of the
    event's fields again; any other payload, or one that fails those checks, goes through the
    registry's fully checked decoding, which reports every problem.

    Raises:
        UnknownEventTypeError: The stored type, or its schema version, is unknown to ``registry``.
        IntegrityError: The payload does not decode.
    """
    return _decode(
        registry,
        record.type,
        record.schema_version,
        record.payload,
        record.position,
        checked=checked,
    )


def _decode(
    registry: EventRegistry, name: str, version: int, payload: str, position: int, *, checked: bool
) -> Event:
    event_type = registry.get(name)
    if version == event_type.version:
        build = fast_builder(event_type.cls, checked=checked)
        if build is not None:
            try:
                event: Event | None = build(parse_payload(payload))
            except Exception:  # not JSON, or a check that fails: the fully checked path says why
                event = None
            if event is not None:
                return event
    try:
        data: Any = json.loads(payload)
        return registry.decode(event_type.name, data, schema_version=version)
    except UnknownEventTypeError:
        raise
    except (ValidationError, ValueError) as error:
        raise IntegrityError(
            f"position {position}: the stored payload does not decode: {error}",
            position=position,
        ) from error
