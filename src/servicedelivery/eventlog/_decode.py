"""Stored records back into envelopes: payloads decoded and upcast, instants rebuilt."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pendulum

from servicedelivery.errors import IntegrityError, UnknownEventTypeError, ValidationError
from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._instants import parse_instant
from servicedelivery.eventlog._records import RecordedEvent, StoredRecord
from servicedelivery.eventlog._registry import EventRegistry

__all__ = ["decode_payload", "decode_records"]


def decode_records(registry: EventRegistry, records: Iterable[StoredRecord]) -> list[RecordedEvent]:
    """Envelopes of stored records, their payloads decoded (and upcast) by ``registry``.

    Raises:
        UnknownEventTypeError: A stored type the registry does not know.
        IntegrityError: A stored payload that does not decode.
    """
    # Within one read, equal payloads decode to one (immutable) event and equal texts to one
    # instant: most payloads repeat (every start, completion, block for a common reason).
    events: dict[tuple[str, int, str], Event] = {}
    instants: dict[str, pendulum.DateTime] = {}
    result = []
    for record in records:
        key = (record.type, record.schema_version, record.payload)
        event = events.get(key)
        if event is None:
            event = events[key] = decode_payload(registry, record)
        occurred = instants.get(record.occurred_at)
        if occurred is None:
            occurred = instants[record.occurred_at] = parse_instant(record.occurred_at)
        recorded = instants.get(record.recorded_at)
        if recorded is None:
            recorded = instants[record.recorded_at] = parse_instant(record.recorded_at)
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
                record.actor,
                record.source,
                record.correlation_id,
                record.causation_id,
                record.hash,
            )
        )
    return result


def decode_payload(registry: EventRegistry, record: StoredRecord) -> Event:
    """The event a stored record holds; a payload that does not decode is corruption.

    Raises:
        UnknownEventTypeError: The stored type, or its schema version, is unknown to ``registry``.
        IntegrityError: The payload does not decode.
    """
    event_type = registry.get(record.type)
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
