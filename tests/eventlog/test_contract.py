"""Both shipped backends pass the contract suite that host backends are held to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from servicedelivery.errors import EventLogError
from servicedelivery.eventlog import (
    EventLog,
    InMemoryEventLog,
    SQLiteEventLog,
    StoredRecord,
    StreamHead,
)
from servicedelivery.testing import EventLogContract, check_event_log


class TestInMemoryEventLog(EventLogContract):
    def make_log(self, **options: Any) -> EventLog:
        return InMemoryEventLog(**options)


class TestSQLiteEventLog(EventLogContract):
    def make_log(self, **options: Any) -> EventLog:
        count = getattr(self, "count", 0) + 1
        self.count = count
        # "normal" keeps the suite fast; durability is tested by the crash test.
        return SQLiteEventLog(self.workdir / f"log-{count}.db", synchronous="normal", **options)


class ForgetfulLog(InMemoryEventLog):
    """Does not find recorded events by id: retries would be recorded twice."""

    def _records_by_id(self, event_ids: Sequence[str]) -> list[StoredRecord]:
        return []


class LooseLog(InMemoryEventLog):
    """Ignores the stream index: every stream looks new, so expected versions are never checked."""

    def _stream_head(self, stream_id: str) -> StreamHead | None:
        return None


class LeakyLog(InMemoryEventLog):
    """Writes the batch before the commit fails: a refused append leaves records behind."""

    def _insert(self, records: Sequence[StoredRecord], attributes: Any, head: StreamHead) -> None:
        super()._insert(records, attributes, head)
        if len(self._records) > 3:
            raise EventLogError("the disk is full")


@pytest.mark.parametrize("broken", [ForgetfulLog, LooseLog, LeakyLog])
def test_the_contract_catches_a_broken_backend(broken: type[EventLog]) -> None:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - whatever the first failing test raises
        check_event_log(broken)
    assert any("contract test test_" in note for note in caught.value.__notes__)


def test_the_shipped_backends_pass_the_contract_outside_pytest() -> None:
    assert len(check_event_log(InMemoryEventLog)) >= 20
