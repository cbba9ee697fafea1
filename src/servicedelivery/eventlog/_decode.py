"""Stored records back into envelopes: payloads decoded and upcast, instants rebuilt."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pendulum

from servicedelivery.errors import IntegrityError, UnknownEventTypeError, ValidationError
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


def decode_records(registry: EventRegistry, records: Iterable[StoredRecord]) -> list[RecordedEvent]:
    """Envelopes of stored records, their payloads decoded (and upcast) by ``registry``.

    Raises:
        UnknownEventTypeError: A stored type the registry does not know.
        IntegrityError: A stored payload that does not decode.
    """
    # Within one read, equal payloads decode to one (immutable) event and equal texts to one
    # instant: most payloads repeat (every start, completion, block for a common reason), and the
    # events of a batch share their recorded_at.
    events: dict[tuple[str, int, str], Event] = {}
    instants: dict[str, pendulum.DateTime] = {}
    new = tuple.__new__
    result: list[RecordedEvent] = []
    append = result.append
    for record in records:
        key = record[4:7]  # type, schema_version, payload
        event = events.get(key)
        if event is None:
            event = events[key] = decode_payload(registry, record)
        occurred = instants.get(record[7])
        if occurred is None:
            occurred = instants[record[7]] = parse_instant(record[7])
        recorded = instants.get(record[8])
        if recorded is None:
            recorded = instants[record[8]] = parse_instant(record[8])
        # Built as a tuple from the record's fields (see StoredRecord for their order): the named
        # tuple's own constructor is a Python function and costs as much again.
        append(
            new(
                RecordedEvent,
                (
                    record[0],
                    record[2],
                    record[3],
                    record[1],
                    record[4],
                    record[5],
                    event,
                    occurred,
                    recorded,
                    *record[9:14],
                ),
            )
        )
    return result


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
    event_type = registry.get(record.type)
    if record.schema_version == event_type.version:
        build = fast_builder(event_type.cls, checked=checked)
        if build is not None:
            try:
                event: Event | None = build(parse_payload(record.payload))
            except Exception:  # not JSON, or a check that fails: the fully checked path says why
                event = None
            if event is not None:
                return event
    try:
        data: Any = json.loads(record.payload)
        return registry.decode(event_type.name, data, schema_version=record.schema_version)
    except UnknownEventTypeError:
        raise
    except (ValidationError, ValueError) as error:
        raise IntegrityError(
            f"position {record.position}: the stored payload does not decode: {error}",
            position=record.position,
        ) from error
