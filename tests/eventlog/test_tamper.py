"""Tamper evidence: records changed behind the library's back are caught by ``verify``."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pendulum
import pytest

from servicedelivery.errors import IntegrityError
from servicedelivery.eventlog import (
    GENESIS,
    InMemoryEventLog,
    MilestoneBlocked,
    MilestonePlanned,
    MilestoneStarted,
    MilestoneUnblocked,
    NewEvent,
    SQLiteEventLog,
    StoredRecord,
)
from servicedelivery.eventlog._chain import chain_text
from servicedelivery.model import Owner
from servicedelivery.testing import ManualClock

T0 = pendulum.datetime(2024, 3, 4, 9, tz="Europe/Paris")


def new(event: object, minutes: int) -> NewEvent:
    return NewEvent(event, occurred_at=T0.add(minutes=minutes))  # type: ignore[arg-type]


def fill(log: SQLiteEventLog | InMemoryEventLog) -> None:
    plan = MilestonePlanned(order_id="O-1", step="survey", attributes={"region": "nordics"})
    log.append("milestone:M-1", [new(plan, 0), new(MilestoneStarted(), 1)])
    log.append("milestone:M-2", [new(plan, 2)])
    log.append(
        "milestone:M-1",
        [
            new(MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER), 3),
            new(MilestoneUnblocked(), 4),
        ],
    )
    log.append("milestone:M-2", [new(MilestoneStarted(), 5)])


def rehash(db: sqlite3.Connection) -> None:
    """What a careful attacker does after an edit: recompute every hash so the chain holds."""
    previous = GENESIS
    rows = db.execute(
        "SELECT e.position, e.event_id, s.stream_id, e.version, t.name, e.schema_version, "
        "e.payload, e.occurred_at, e.recorded_at, e.actor, e.source, e.correlation_id, "
        "e.causation_id FROM events e JOIN streams s ON s.id = e.stream "
        "JOIN names t ON t.id = e.type ORDER BY e.position"
    ).fetchall()
    for row in rows:
        keys = [
            "position",
            "event_id",
            "stream_id",
            "version",
            "type",
            "schema_version",
            "payload",
            "occurred_at",
            "recorded_at",
            "actor",
            "source",
            "correlation_id",
            "causation_id",
        ]
        text = chain_text(**dict(zip(keys, row, strict=True)), previous=previous)
        previous = hashlib.sha256(text.encode()).hexdigest()
        db.execute("UPDATE events SET hash = ? WHERE position = ?", (previous, row[0]))


def unlock(db: sqlite3.Connection) -> None:
    for (name,) in db.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")


SQL_TAMPERING: list[tuple[str, str, int]] = [
    ("a payload", 'UPDATE events SET payload = \'{"note":"hi"}\' WHERE position = 4', 4),
    (
        "an occurred_at",
        "UPDATE events SET occurred_at = '2024-03-04T09:01:00+00:00' WHERE position = 2",
        2,
    ),
    ("an actor", "UPDATE events SET actor = 'mallory' WHERE position = 3", 3),
    (
        "an owner column",
        "UPDATE events SET owner = (SELECT id FROM names WHERE name = 'start') WHERE position = 4",
        4,
    ),
    (
        "an occurred_ns column",
        "UPDATE events SET occurred_ns = occurred_ns + 1 WHERE position = 5",
        5,
    ),
    ("a target column", "UPDATE events SET target_ns = 0 WHERE position = 1", 1),
    ("an attribute", "UPDATE names SET name = 'dach' WHERE name = 'nordics'", 1),
    ("a removed middle record", "DELETE FROM events WHERE position = 3", 3),
    ("a removed last record", "DELETE FROM events WHERE position = 6", 6),
    (
        "a stream's state in the index",
        "UPDATE streams SET state = 'done' WHERE stream_id = 'milestone:M-2'",
        6,
    ),
    (
        "a stream's version in the index",
        "UPDATE streams SET version = 9 WHERE stream_id = 'milestone:M-1'",
        7,
    ),
    ("a removed attribute row", "DELETE FROM attributes WHERE position = 3", 3),
]


@pytest.mark.parametrize(
    ("what", "statement", "position"), SQL_TAMPERING, ids=[t[0] for t in SQL_TAMPERING]
)
def test_verify_catches_a_row_changed_behind_the_library(
    tmp_path: Path, what: str, statement: str, position: int
) -> None:
    path = tmp_path / "trail.db"
    with SQLiteEventLog(path, clock=ManualClock()) as log:
        fill(log)
        assert log.verify().records == 6
    db = sqlite3.connect(path, isolation_level=None)
    unlock(db)
    db.execute(statement)
    db.close()
    with SQLiteEventLog(path) as log:
        with pytest.raises(IntegrityError) as caught:
            log.verify()
        assert caught.value.position == position, (what, str(caught.value))


def test_a_rehashed_chain_still_betrays_a_rewrite_to_an_anchor(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    with SQLiteEventLog(path, clock=ManualClock()) as log:
        fill(log)
        anchor = log.verify()
    db = sqlite3.connect(path, isolation_level=None)
    unlock(db)
    db.execute("UPDATE events SET actor = 'mallory' WHERE position = 2")
    rehash(db)
    db.close()
    with SQLiteEventLog(path) as log:
        assert log.verify().records == 6  # the chain itself was made to hold again
        with pytest.raises(IntegrityError) as caught:
            log.verify(anchor=anchor)
        assert caught.value.position == 6


def test_an_anchor_beyond_the_end_is_caught(tmp_path: Path) -> None:
    with SQLiteEventLog(tmp_path / "a.db", clock=ManualClock()) as longer:
        fill(longer)
        anchor = longer.verify()
    with SQLiteEventLog(tmp_path / "b.db", clock=ManualClock()) as shorter:
        shorter.append("milestone:M-1", [new(MilestonePlanned(order_id="O", step="x"), 0)])
        with pytest.raises(IntegrityError) as caught:
            shorter.verify(anchor=anchor)
        assert caught.value.position == 2


def test_a_corrupt_stored_payload_is_an_integrity_error_on_read(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    with SQLiteEventLog(path, clock=ManualClock()) as log:
        fill(log)
    db = sqlite3.connect(path, isolation_level=None)
    unlock(db)
    db.execute("UPDATE events SET payload = '{\"reason\": 7}' WHERE position = 3")
    db.close()
    with SQLiteEventLog(path) as log:
        with pytest.raises(IntegrityError) as caught:
            log.read_all()
        assert caught.value.position == 3
        assert [r.position for r in log.read_all(limit=2)] == [1, 2]


MEMORY_TAMPERING: list[tuple[str, Callable[[InMemoryEventLog], None], int]] = [
    (
        "a payload",
        lambda log: log._records.__setitem__(
            1, StoredRecord(*log._records[1])._replace(payload=json.dumps({"note": "x"}))
        ),
        2,
    ),
    (
        "a hash",
        lambda log: log._records.__setitem__(
            4, StoredRecord(*log._records[4])._replace(hash="0" * 64)
        ),
        5,
    ),
    (
        "a derived reason",
        lambda log: log._records.__setitem__(
            3, StoredRecord(*log._records[3])._replace(reason="test_failure")
        ),
        4,
    ),
    ("a removed record", lambda log: log._records.pop(2), 3),
]


@pytest.mark.parametrize(
    ("what", "tamper", "position"), MEMORY_TAMPERING, ids=[t[0] for t in MEMORY_TAMPERING]
)
def test_verify_catches_tampering_in_memory(
    what: str, tamper: Callable[[InMemoryEventLog], None], position: int
) -> None:
    log = InMemoryEventLog(clock=ManualClock())
    fill(log)
    tamper(log)
    with pytest.raises(IntegrityError) as caught:
        log.verify()
    assert caught.value.position == position, what
