"""RecordColumns: a batch's records as columns, and as the sequence of rows host backends take."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.eventlog import InMemoryEventLog, StoredRecord
from servicedelivery.eventlog._records import RecordColumns
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail
from servicedelivery.testing import ManualClock


def _records() -> list[StoredRecord]:
    log = InMemoryEventLog(clock=ManualClock())
    for stream_id, events in synthetic_trail(synthetic_portfolio(orders=3, seed=2), seed=2):
        log.append(stream_id, events)
    return log._select_all(0, None)


RECORDS = _records()


@given(st.lists(st.integers(0, len(RECORDS)), min_size=1, max_size=5))
def test_columns_are_the_records_as_rows_in_order(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(RECORDS)]
    parts = [RECORDS[start:stop] for start, stop in itertools.pairwise(bounds)]
    whole = RecordColumns.of(RECORDS)
    assert len(whole) == len(RECORDS)
    assert list(whole) == RECORDS
    assert whole == RECORDS
    assert all(type(record) is StoredRecord for record in whole)
    assert [list(column) for column in whole.columns] == [
        list(c) for c in zip(*RECORDS, strict=True)
    ]
    assert RecordColumns.of(whole) is whole
    for (start, stop), part in zip(itertools.pairwise(bounds), parts, strict=True):
        assert whole.part(start, stop) == part
        assert whole[start:stop] == part
    # Joined from rows, from columns, or both: the records one after the other.
    mixed = [RecordColumns.of(part) if index % 2 else part for index, part in enumerate(parts)]
    assert RecordColumns.joined(mixed) == RecordColumns.joined(parts) == whole
    assert whole[-1] == RECORDS[-1]
