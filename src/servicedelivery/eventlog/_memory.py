"""The in-memory backend: for tests, notebooks and short-lived tools.

It keeps the records in a list, an index by event id and by stream, and the columnar facts in
parallel lists that ``read_columns`` turns into arrays without a Python loop. A lock serializes
writers and readers across threads; nothing survives the process.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from servicedelivery.eventlog._chain import GENESIS
from servicedelivery.eventlog._columns import NO_TARGET, Categorical, RawColumns
from servicedelivery.eventlog._log import AttributeRow, Clock, EventLog, utc_now
from servicedelivery.eventlog._records import (
    EnvelopeRow,
    RecordColumns,
    StoredRecord,
    StreamHead,
    envelope_row,
    stored_record,
)
from servicedelivery.eventlog._registry import DEFAULT_REGISTRY, EventRegistry
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.model import DEFAULT_TAXONOMY, Taxonomy

__all__ = ["InMemoryEventLog"]

# What the columnar facts hold for a record without a target date or a sequence: looked up with
# the value itself as the default, so that any other value stays as it is.
_NO_TARGET = {None: NO_TARGET}
_NO_SEQUENCE = {None: -1}


class InMemoryEventLog(EventLog):
    """An event log held in memory.

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
        super().__init__(lifecycle=lifecycle, taxonomy=taxonomy, registry=registry, clock=clock)
        self._lock = threading.RLock()
        # Records are kept as plain tuples, which the cyclic garbage collector stops tracking once
        # it has seen that they hold only strings and numbers; as StoredRecord (a tuple subclass)
        # every record would be walked again by every full collection, for the log's lifetime.
        self._records: list[tuple[Any, ...]] = []
        self._index: dict[str, int] = {}
        self._streams: dict[str, list[int]] = {}
        self._heads: dict[str, StreamHead] = {}
        # Categorical columns are codes into one dictionary of names, as SQLite keeps them; each
        # record's columnar facts are one tuple of integers, which numpy reads in one call.
        self._codes: dict[str | None, int] = {None: -1}
        self._names: list[str] = []
        self._event_ids: list[str] = []
        self._facts: list[tuple[int, ...]] = []
        self._attribute_rows: list[tuple[int, int, int]] = []

    def __repr__(self) -> str:
        return f"<InMemoryEventLog: {len(self._records)} records>"

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock:
            yield

    @contextmanager
    def _read(self) -> Iterator[None]:
        with self._lock:
            yield

    def _last(self) -> tuple[int, str]:
        if not self._records:
            return 0, GENESIS
        last = self._records[-1]
        return last[0], last[13]  # position, hash

    def _stream_head(self, stream_id: str) -> StreamHead | None:
        return self._heads.get(stream_id)

    def _records_by_id(self, event_ids: Sequence[str]) -> list[StoredRecord]:
        if self._index.keys().isdisjoint(event_ids):  # the usual case, in one C-level pass
            return []
        found = map(self._index.get, event_ids)
        return [stored_record(self._records[index]) for index in found if index is not None]

    def _intern(self, names: Iterable[str | None]) -> None:
        codes = self._codes
        new = set(names).difference(codes)  # in one C-level pass; usually nothing is new
        for name in sorted(new, key=str):  # sorted: the codes do not depend on set order
            assert name is not None
            codes[name] = len(self._names)
            self._names.append(name)

    def _insert(
        self, records: Sequence[StoredRecord], attributes: Sequence[AttributeRow], head: StreamHead
    ) -> None:
        self._insert_many([(records, attributes, head)])

    def _insert_many(
        self, writes: Sequence[tuple[Sequence[StoredRecord], Sequence[AttributeRow], StreamHead]]
    ) -> None:
        # The records as columns (as appends give them), in StoredRecord's order.
        columns = RecordColumns.joined([records for records, _, _ in writes]).columns
        attributes = (
            [row for _, rows, _ in writes for row in rows] if len(writes) > 1 else writes[0][1]
        )
        (positions, event_ids, streams, types) = columns[0], columns[1], columns[2], columns[4]
        triggers, owners, reasons = columns[16], columns[17], columns[18]
        # Everything is computed before anything is changed, so a failure changes nothing. The
        # categorical fields take few values: the new ones are found in one pass per column.
        self._intern(itertools.chain(*map(set, (streams, types, triggers, owners, reasons))))
        self._intern(itertools.chain.from_iterable(row[1:] for row in attributes))
        code = self._codes.__getitem__
        facts = list(
            zip(
                positions,
                columns[14],  # occurred_ns
                columns[15],  # recorded_ns
                map(int, columns[19]),  # override
                map(code, streams),
                map(code, types),
                map(code, triggers),
                map(code, owners),
                map(code, reasons),
                map(_NO_TARGET.get, columns[20], columns[20]),  # target_ns, or NO_TARGET
                map(_NO_SEQUENCE.get, columns[21], columns[21]),  # sequence, or -1
                strict=True,
            )
        )
        rows = [(position, code(key), code(value)) for position, key, value in attributes]
        start = len(self._records)
        self._index.update(zip(event_ids, itertools.count(start)))
        for batch, _, head in writes:
            indexes = range(start, start + len(batch))
            self._streams.setdefault(head.stream_id, []).extend(indexes)
            self._heads[head.stream_id] = head
            start += len(batch)
        self._records.extend(zip(*columns, strict=True))
        self._event_ids.extend(event_ids)
        self._facts.extend(facts)
        self._attribute_rows.extend(rows)

    def _select_stream(
        self, stream_id: str, from_version: int, limit: int | None
    ) -> list[StoredRecord]:
        return list(map(stored_record, self._stream_rows(stream_id, from_version, limit)))

    def _select_all(self, from_position: int, limit: int | None) -> list[StoredRecord]:
        return list(map(stored_record, self._rows(from_position, limit)))

    def _select_stream_envelopes(
        self, stream_id: str, from_version: int, limit: int | None
    ) -> list[EnvelopeRow]:
        return list(map(envelope_row, self._stream_rows(stream_id, from_version, limit)))

    def _select_envelopes(self, from_position: int, limit: int | None) -> list[EnvelopeRow]:
        return list(map(envelope_row, self._rows(from_position, limit)))

    def _stream_rows(
        self, stream_id: str, from_version: int, limit: int | None
    ) -> list[tuple[Any, ...]]:
        """The stream's stored tuples from ``from_version``, at most ``limit``."""
        with self._lock:
            indexes = self._streams.get(stream_id, [])[from_version - 1 :]
            if limit is not None:
                indexes = indexes[:limit]
            return list(map(self._records.__getitem__, indexes))

    def _rows(self, from_position: int, limit: int | None) -> list[tuple[Any, ...]]:
        """The stored tuples from ``from_position``, at most ``limit``."""
        start = max(from_position, 1) - 1
        stop = None if limit is None else start + limit
        with self._lock:
            return self._records[start:stop]

    def _select_attributes(self, from_position: int, to_position: int) -> list[AttributeRow]:
        rows = self._attribute_rows
        low = bisect.bisect_left(rows, (from_position,))
        high = bisect.bisect_left(rows, (to_position + 1,))
        names = self._names
        return [(position, names[key], names[value]) for position, key, value in rows[low:high]]

    def _select_columns(self, from_position: int) -> RawColumns:
        start = max(from_position, 1) - 1
        facts = np.array(self._facts[start:], dtype=np.int64).reshape(-1, 11)
        names = np.array(self._names, dtype=object)
        low = bisect.bisect_left(self._attribute_rows, (start + 1,))
        rows = np.array(self._attribute_rows[low:], dtype=np.int64).reshape(-1, 3)
        return RawColumns(
            position=facts[:, 0],
            event_id=np.array(self._event_ids[start:], dtype=object),
            stream=Categorical(facts[:, 4], names),
            type=Categorical(facts[:, 5], names),
            occurred_ns=facts[:, 1],
            recorded_ns=facts[:, 2],
            trigger=Categorical(facts[:, 6], names),
            owner=Categorical(facts[:, 7], names),
            reason=Categorical(facts[:, 8], names),
            override=facts[:, 3].astype(bool),
            target_ns=facts[:, 9],
            sequence=facts[:, 10],
            attribute_position=rows[:, 0],
            attribute_key=Categorical(rows[:, 1], names),
            attribute_value=Categorical(rows[:, 2], names),
        )

    def _stream_heads(self) -> list[StreamHead]:
        return list(self._heads.values())
