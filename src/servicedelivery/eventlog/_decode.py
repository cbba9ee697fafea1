"""Stored records back into envelopes: payloads decoded and upcast, instants rebuilt."""

from __future__ import annotations

import gc
import itertools
import json
import operator
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pendulum

from servicedelivery.errors import (
    IntegrityError,
    ServiceDeliveryError,
    UnknownEventTypeError,
    ValidationError,
)
from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._fast import (
    fast_builder,
    fast_columns,
    parse_payload,
    parse_payloads,
)
from servicedelivery.eventlog._instants import parse_instant, parse_instants
from servicedelivery.eventlog._records import EnvelopeRow, RecordedEvent, StoredRecord
from servicedelivery.eventlog._registry import EventRegistry

__all__ = ["collector_paused", "decode_each", "decode_payload", "decode_records"]


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


_KEY = operator.itemgetter(4, 5, 6)  # type, schema_version, payload
_KIND = operator.itemgetter(0, 1)  # of a key: type, schema_version
_PAYLOAD = operator.itemgetter(2)
_INSTANTS = operator.itemgetter(7, 8)  # occurred_at, recorded_at


def decode_records(registry: EventRegistry, records: Sequence[EnvelopeRow]) -> list[RecordedEvent]:
    """Envelopes of stored records, their payloads decoded (and upcast) by ``registry``.

    ``records`` are envelope rows: the first fourteen fields of stored records (see ``EnvelopeRow``).
    Equal payloads decode to one (immutable) event and equal texts to one instant: most payloads
    repeat (every start, completion, block for a common reason), and the events of a batch share
    their recorded_at. The distinct ones are decoded in bulk; when one does not decode, the records
    are decoded again one by one (``decode_each``), which raises for the first such record.

    Raises:
        UnknownEventTypeError: A stored type the registry does not know.
        IntegrityError: A stored payload that does not decode.
        ValueError: A stored instant that does not parse.
    """
    if len(records) < _BULK:
        return decode_each(registry, records)
    return _in_bulk(registry, records)


_BULK = 64  # records: below this many, the bulk passes' fixed costs exceed what they save
_CHUNK = 256  # records: measured best between 128 and 512 (bench_decode)


def _in_bulk(registry: EventRegistry, records: Sequence[EnvelopeRow]) -> list[RecordedEvent]:
    """``decode_records`` by chunks, the distinct payloads and instants of each decoded in bulk."""
    events: dict[tuple[str, int, str], Event] = {}
    instants: dict[str, pendulum.DateTime] = {}
    result: list[RecordedEvent] = []
    new = tuple.__new__
    # In chunks, so that each record's data is still in the CPU's cache from one pass to the next:
    # the passes over a whole large read ran slower than decoding record by record.
    for start in range(0, len(records), _CHUNK):
        chunk = records[start : start + _CHUNK]
        try:
            # (set.difference looks each of the chunk's up in the dict: not the other way round)
            keys = set(map(_KEY, chunk)).difference(events)
            if keys:
                events.update(_events(registry, keys))
            texts = list(
                set(itertools.chain.from_iterable(map(_INSTANTS, chunk))).difference(instants)
            )
            instants.update(zip(texts, parse_instants(texts), strict=True))
        except (ServiceDeliveryError, ValueError):
            return decode_each(registry, records)
        # Built as tuples from the rows' fields (see StoredRecord for their order): the named
        # tuple's own constructor is a Python function and costs as much again.
        result += [
            new(
                RecordedEvent,
                (p, s, v, i, t, sv, events[t, sv, pl], instants[o], instants[r], a, so, c, ca, h),
            )
            for p, i, s, v, t, sv, pl, o, r, a, so, c, ca, h in chunk
        ]
    return result


def _events(
    registry: EventRegistry, keys: Iterable[tuple[str, int, str]]
) -> dict[tuple[str, int, str], Event]:
    """The event of each distinct (type, schema_version, payload); raises if one does not decode.

    The payloads of each type at its current version are parsed and built column-wise
    (``parse_payloads``, ``fast_columns``); the others, and a type whose column is not all of the
    usual shape, one by one.
    """
    keys = list(keys)
    kinds = list(map(_KIND, keys))
    codes = {kind: code for code, kind in enumerate(dict.fromkeys(kinds))}
    of_kind = np.fromiter(map(codes.__getitem__, kinds), dtype=np.int64, count=len(kinds))
    payloads = np.array(list(map(_PAYLOAD, keys)), dtype=object)
    events: dict[tuple[str, int, str], Event] = {}
    for (name, schema_version), code in codes.items():  # the handful of types read
        texts: list[str] = payloads[of_kind == code].tolist()
        group = list(zip(itertools.repeat(name), itertools.repeat(schema_version), texts))
        built = _columns(registry, name, schema_version, texts)
        if built is None:
            built = [_decoded(registry, *key) for key in group]
        events.update(zip(group, built, strict=True))
    return events


def _columns(
    registry: EventRegistry, name: str, schema_version: int, texts: list[str]
) -> list[Event] | None:
    """The events of these payloads of one type built column-wise, or ``None`` if they cannot be."""
    event_type = registry.get(name)
    build = fast_columns(event_type.cls) if schema_version == event_type.version else None
    data = None if build is None else parse_payloads(texts)
    return None if build is None or data is None else build(data)


def decode_each(registry: EventRegistry, records: Iterable[EnvelopeRow]) -> list[RecordedEvent]:
    """``decode_records`` record by record: the reference it equals, and what says which record fails.

    Raises:
        UnknownEventTypeError: The first record whose type the registry does not know.
        IntegrityError: The first record whose payload does not decode.
        ValueError: The first record with an instant that does not parse.
    """
    events: dict[tuple[str, int, str], Event] = {}
    instants: dict[str, pendulum.DateTime] = {}
    new = tuple.__new__
    result: list[RecordedEvent] = []
    append = result.append
    for p, i, s, v, t, sv, pl, o, r, a, so, c, ca, h in records:
        event = events.get((t, sv, pl))
        if event is None:
            event = events[t, sv, pl] = _at(p, registry, t, sv, pl)
        occurred = instants.get(o)
        if occurred is None:
            occurred = instants[o] = parse_instant(o)
        recorded = instants.get(r)
        if recorded is None:
            recorded = instants[r] = parse_instant(r)
        append(new(RecordedEvent, (p, s, v, i, t, sv, event, occurred, recorded, a, so, c, ca, h)))
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
    return _at(record[0], registry, record[4], record[5], record[6], checked=checked)


def _at(
    position: int,
    registry: EventRegistry,
    name: str,
    schema_version: int,
    payload: str,
    *,
    checked: bool = False,
) -> Event:
    """``_decoded``, its failure reported as corruption at ``position``."""
    try:
        return _decoded(registry, name, schema_version, payload, checked=checked)
    except UnknownEventTypeError:
        raise
    except (ValidationError, ValueError) as error:
        raise IntegrityError(
            f"position {position}: the stored payload does not decode: {error}",
            position=position,
        ) from error


def _decoded(
    registry: EventRegistry, name: str, schema_version: int, payload: str, *, checked: bool = False
) -> Event:
    """The event of a stored payload (see ``decode_payload``); raises what the checked path raises.

    Raises:
        UnknownEventTypeError: The type, or its schema version, is unknown to ``registry``.
        ValidationError: The payload does not hold.
        ValueError: The payload is not JSON.
    """
    event_type = registry.get(name)
    if schema_version == event_type.version:
        build = fast_builder(event_type.cls, checked=checked)
        if build is not None:
            try:
                event: Event | None = build(parse_payload(payload))
            except Exception:  # not JSON, or a check that fails: the fully checked path says why
                event = None
            if event is not None:
                return event
    data: Any = json.loads(payload)
    return registry.decode(event_type.name, data, schema_version=schema_version)
