"""What only the SQLite backend promises: files, processes, crashes, and its schema's guarantees."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import pytest

from servicedelivery.errors import (
    EventIdConflictError,
    IntegrityError,
    SourceError,
    ValidationError,
)
from servicedelivery.eventlog import (
    SCHEMA_VERSION,
    EventLog,
    MilestoneBlocked,
    MilestonePlanned,
    MilestoneStarted,
    NewEvent,
    SQLiteEventLog,
)
from servicedelivery.model import Owner
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail
from servicedelivery.testing import ManualClock
from tests.eventlog.bad_appends import BAD_APPENDS, act_after, fill

ROOT = Path(__file__).resolve().parents[2]
T0 = pendulum.datetime(2024, 3, 4, 9, tz="Europe/Paris")


def new(event: Any, minutes: int = 0, **envelope: Any) -> NewEvent:
    return NewEvent(event, occurred_at=T0.add(minutes=minutes), **envelope)


def plan() -> MilestonePlanned:
    return MilestonePlanned(order_id="O-1", step="site_survey", attributes={"region": "france"})


def filled(path: Path) -> SQLiteEventLog:
    log = SQLiteEventLog(path, clock=ManualClock())
    fill(log)
    return log


def test_the_file_is_a_wal_database_with_a_versioned_schema(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    filled(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {row[0] for row in db.execute("SELECT sql FROM sqlite_schema") if row[0]}
    schema = " ".join(indexes)
    assert "event_id TEXT NOT NULL UNIQUE" in schema
    assert "UNIQUE (stream, version)" in schema
    assert "position INTEGER PRIMARY KEY" in schema
    db.close()


def test_reopening_a_file_finds_everything(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    log = filled(path)
    records = log.read_all()
    log.close()
    with SQLiteEventLog(path) as again:
        assert again.read_all() == records
        assert again.stream_version("milestone:M-1") == 2
        blocked = MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER)
        assert again.append("milestone:M-1", [new(blocked, 3)], expected_version=2).version == 3


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET payload = '{}' WHERE position = 1",
        "DELETE FROM events WHERE position = 3",
        "UPDATE names SET name = 'x' WHERE id = 1",
        "DELETE FROM attributes",
        "DELETE FROM streams",
        "DELETE FROM head",
        "INSERT INTO head VALUES (2, 0, '')",
        "UPDATE head SET position = 2",
        "UPDATE head SET position = 4",
        "UPDATE head SET id = 2",
        "INSERT INTO events SELECT * FROM events WHERE position = 1",
        "UPDATE streams SET version = 1 WHERE id = 1",
        "UPDATE streams SET version = 3 WHERE id = 1",
    ],
)
def test_the_schema_itself_keeps_the_log_append_only(tmp_path: Path, statement: str) -> None:
    path = tmp_path / "trail.db"
    filled(path).close()
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(statement)
    db.close()


def event_row(position: int, stream: int, version: int) -> str:
    return (
        "INSERT INTO events (position, event_id, stream, version, type, schema_version, payload, "
        "occurred_at, recorded_at, hash, occurred_ns, recorded_ns, override) VALUES "
        f"({position}, 'x{position}', {stream}, {version}, 1, 1, '{{}}', '', '', 'h{position}', 0, "
        "0, 0)"
    )


def execute_all(db: sqlite3.Connection, statements: list[str]) -> None:
    for statement in statements:
        db.execute(statement)


def head_row(position: int) -> str:
    return f"UPDATE head SET position = {position}, hash = 'h{position}'"


# Writes that move the log's head and the stream's version, as every writer of the file must (see
# the module docstring of the SQLite backend), but leave a gap. The file after fill(): M-1 (stream 1)
# at version 2 and M-2 (stream 2) at version 1, positions 1 to 3.
GAPS: dict[str, list[str]] = {
    "a position gap": [
        event_row(5, 1, 3),
        "UPDATE streams SET version = 3 WHERE id = 1",
        head_row(5),
    ],
    "a head short of the last position": [
        event_row(4, 1, 3),
        event_row(5, 2, 2),
        "UPDATE streams SET version = 3 WHERE id = 1",
        head_row(4),
    ],
    "a head with another hash": [
        event_row(4, 1, 3),
        "UPDATE streams SET version = 3 WHERE id = 1",
        "UPDATE head SET position = 4, hash = 'h3'",
    ],
    "a version gap": [
        event_row(4, 1, 9),
        "UPDATE streams SET version = 9 WHERE id = 1",
        head_row(4),
    ],
    "a version beyond the stream's new version": [
        event_row(4, 1, 4),
        "UPDATE streams SET version = 3 WHERE id = 1",
        head_row(4),
    ],
    "a new stream not starting at version 1": [
        event_row(4, 3, 2),
        "INSERT INTO streams VALUES (3, 'milestone:M-3', 2, 'planned', 0)",
        head_row(4),
    ],
}


@pytest.mark.parametrize("statements", GAPS.values(), ids=GAPS.keys())
def test_the_schema_refuses_a_write_that_leaves_a_gap(
    tmp_path: Path, statements: list[str]
) -> None:
    path = tmp_path / "trail.db"
    filled(path).close()
    before = file_bytes(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.IntegrityError, match="without gaps"):
        execute_all(db, statements)
    db.execute("ROLLBACK")
    db.close()
    assert file_bytes(path) == before


@pytest.mark.parametrize(
    ("statements", "stream"),
    [
        ([event_row(4, 1, 3), "UPDATE streams SET version = 3 WHERE id = 1"], "milestone:M-2"),
        ([event_row(4, 1, 3), head_row(4)], "milestone:M-1"),
    ],
    ids=["rows without their batch", "rows without the stream's new version"],
)
def test_rows_written_behind_the_log_stop_the_next_append(
    tmp_path: Path, statements: list[str], stream: str
) -> None:
    path = tmp_path / "trail.db"
    filled(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    execute_all(db, statements)
    db.close()
    with SQLiteEventLog(path) as log:
        before = file_bytes(path)
        blocked = MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER)
        events = [new(MilestoneStarted(), 3)] if stream == "milestone:M-2" else [new(blocked, 3)]
        with pytest.raises(IntegrityError, match="refused the batch"):
            log.append(stream, events)
        assert file_bytes(path) == before
        with pytest.raises(IntegrityError):
            log.verify()


def test_what_an_append_read_is_not_reused_after_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    first, second = filled(path), SQLiteEventLog(path, clock=ManualClock())
    blocked = MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER)
    assert second.append("milestone:M-1", [new(blocked, 3)]).positions == range(4, 5)
    assert first.append("milestone:M-3", [new(plan(), 4)]).positions == range(5, 6)
    assert second.head() == 5
    assert second.stream_version("milestone:M-3") == 1
    assert second.append("milestone:M-3", [new(MilestoneStarted(), 5)]).positions == range(6, 7)
    assert first.append("milestone:M-4", [new(plan(), 6)]).positions == range(7, 8)
    assert [r.stream_id for r in second.read_all(from_position=5)] == [
        "milestone:M-3",
        "milestone:M-3",
        "milestone:M-4",
    ]
    assert second.verify().records == 7
    first.close()
    second.close()


def test_files_that_are_not_event_logs_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 100)
    with pytest.raises(SourceError) as caught:
        SQLiteEventLog(text)
    assert caught.value.source == str(text)
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(SourceError, match="not a servicedelivery event log"):
        SQLiteEventLog(other)
    future = tmp_path / "future.db"
    filled(future).close()
    db = sqlite3.connect(future)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(SourceError, match="schema version"):
        SQLiteEventLog(future)
    with pytest.raises(ValidationError):
        SQLiteEventLog(tmp_path / "x.db", synchronous="off")  # type: ignore[arg-type]


def file_bytes(path: Path) -> tuple[bytes, bytes]:
    """The database file and its write-ahead log, after folding the log into the file."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    wal = Path(f"{path}-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


@pytest.mark.parametrize(
    ("label", "error", "act"), BAD_APPENDS, ids=[label for label, *_ in BAD_APPENDS]
)
def test_a_refused_append_leaves_the_file_byte_for_byte_unchanged(
    tmp_path: Path,
    label: str,
    error: type[Exception],
    act: Callable[[EventLog], object],
) -> None:
    path = tmp_path / "trail.db"
    log = filled(path)
    before = file_bytes(path)
    with pytest.raises(error):
        act(log)
    assert file_bytes(path) == before, label
    act_after(log)  # the write lock was released
    log.close()


def test_a_corrupt_payload_from_data_never_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "trail.db"
    filled(path).close()
    before = file_bytes(path)
    with pytest.raises(ValidationError) as caught:
        NewEvent.from_data(
            {
                "type": "milestone.planned",
                "payload": {"order_id": ["O-1"], "step": "Site Survey", "sequence": -1},
                "occurred_at": "2024-03-04T10:00:00",
            }
        )
    assert [e.path for e in caught.value.errors] == [
        "payload.order_id",
        "payload.step",
        "payload.sequence",
        "occurred_at",
    ]
    assert file_bytes(path) == before


WRITER = textwrap.dedent(
    """
    import sys, uuid
    import pendulum
    from servicedelivery.errors import ConcurrencyError
    from servicedelivery.eventlog import (
        CaseOpened, CaseResolved, ExpectedVersion, MilestoneCompleted, MilestonePlanned,
        MilestoneStarted, NewEvent, SQLiteEventLog,
    )
    from servicedelivery.model import Case, CaseKind, Priority

    path, name, batches = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t0 = pendulum.datetime(2024, 3, 4, 9, tz="UTC")
    log = SQLiteEventLog(path, synchronous=sys.argv[4])
    case = Case(id="SHARED", kind=CaseKind.REQUEST, priority=Priority.LOW, opened_at=t0)
    try:
        log.append("case:SHARED", [NewEvent(CaseOpened(case=case), occurred_at=t0)],
                   expected_version=ExpectedVersion.NO_STREAM)
        print("opened", flush=True)
    except ConcurrencyError:
        pass
    for batch in range(batches):
        ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{batch}/{i}")) for i in range(3)]
        at = t0.add(minutes=batch)
        events = [
            NewEvent(MilestonePlanned(order_id="O", step="install"), occurred_at=at, event_id=ids[0]),
            NewEvent(MilestoneStarted(), occurred_at=at, event_id=ids[1]),
            NewEvent(MilestoneCompleted(), occurred_at=at, event_id=ids[2]),
        ]
        log.append(f"milestone:{name}-{batch}", events)
        while True:  # a writer that expects an exact version, and retries when it lost the race
            version = log.stream_version("case:SHARED")
            try:
                log.append("case:SHARED", [NewEvent(CaseResolved(note=f"{name}/{batch}"),
                           occurred_at=t0.add(days=1))], expected_version=version)
                break
            except ConcurrencyError:
                continue
        print(batch, flush=True)
    """
)


def spawn(
    path: Path, name: str, batches: int, synchronous: str = "normal"
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), name, str(batches), synchronous],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_several_processes_append_to_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    SQLiteEventLog(path).close()
    writers = [spawn(path, name, 30) for name in ("a", "b", "c")]
    outputs = [writer.communicate(timeout=300)[0].split() for writer in writers]
    assert all(writer.returncode == 0 for writer in writers)
    assert sum(out.count("opened") for out in outputs) == 1
    with SQLiteEventLog(path) as log:
        records = log.read_all()
        assert [r.position for r in records] == list(range(1, 1 + 3 * 30 * 4 + 1))
        shared = log.read_stream("case:SHARED")
        assert [r.version for r in shared] == list(range(1, 3 * 30 + 2))
        assert sorted(r.event.note for r in shared[1:]) == sorted(  # type: ignore[attr-defined]
            f"{name}/{batch}" for name in "abc" for batch in range(30)
        )
        assert log.verify().records == len(records)


def test_a_writer_killed_mid_flight_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    SQLiteEventLog(path).close()
    acknowledged: dict[str, int] = {}
    for round_ in range(3):
        name = f"r{round_}"
        writer = spawn(path, name, 10_000, synchronous="full")
        assert writer.stdout is not None
        count = 0
        for line in writer.stdout:
            if line.strip().isdigit():
                count = int(line) + 1
            if count >= 15 + 10 * round_:
                break
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
        writer.stdout.close()
        assert writer.returncode == -signal.SIGKILL
        acknowledged[name] = count
        with SQLiteEventLog(path) as log:
            for batch in range(count + 2):
                stream = log.read_stream(f"milestone:{name}-{batch}")
                expected = [
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}/{batch}/{i}")) for i in range(3)
                ]
                if batch < count:
                    assert [r.event_id for r in stream] == expected, (name, batch)
                else:
                    # The batch in flight is there whole or not at all.
                    assert [r.event_id for r in stream] in ([], expected), (name, batch)
            verification = log.verify()
            assert verification.records == log.head()
    assert sum(acknowledged.values()) >= 15 + 25 + 35


def test_another_applications_database_is_left_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = other.read_bytes()
    with pytest.raises(SourceError):
        SQLiteEventLog(other)
    assert other.read_bytes() == before
    assert not Path(f"{other}-wal").exists()


def test_several_processes_may_create_the_log_at_once(tmp_path: Path) -> None:
    path = tmp_path / "racing.db"
    writers = [spawn(path, name, 2) for name in ("a", "b", "c")]
    assert all(writer.wait(timeout=300) == 0 for writer in writers)
    for writer in writers:
        assert writer.stdout is not None
        writer.stdout.close()
    with SQLiteEventLog(path) as log:
        assert log.verify().records == 3 * 2 * 4 + 1


def test_new_batches_are_written_without_looking_their_ids_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique index refuses a recorded id; only then are the batch's ids looked up."""
    path = tmp_path / "trail.db"
    log = filled(path)
    looked_up: list[str] = []
    look_up = log._records_by_id

    def spy(event_ids: Any) -> Any:
        looked_up.extend(event_ids)
        return look_up(event_ids)

    monkeypatch.setattr(log, "_records_by_id", spy)
    batch = [new(plan(), 3), new(MilestoneStarted(), 4)]
    first = log.append("milestone:M-3", batch)
    more = log.append_many([("milestone:M-4", [new(plan(), 5)]), ("milestone:M-3", [block(6)])])
    assert first.positions == range(4, 6)
    assert [appended.positions for appended in more] == [range(6, 7), range(7, 8)]
    assert looked_up == []
    # A retry the checks refuse (its stream has moved on): looked up, and answered as a retry.
    again = log.append("milestone:M-3", batch, expected_version=0)
    assert (again.retried, again.positions, again.recorded_at) == (
        True,
        first.positions,
        first.recorded_at,
    )
    assert looked_up == [event.event_id for event in batch]
    # A recorded id the checks let through (a new stream): the index refuses it, the write is
    # rolled back, and the look-up finds the conflict; the file is as it was.
    looked_up.clear()
    before = file_bytes(path)
    with pytest.raises(EventIdConflictError, match="different stream"):
        log.append("milestone:M-5", [batch[0]])
    assert looked_up == [batch[0].event_id]
    assert file_bytes(path) == before
    assert log.append("milestone:M-5", [new(plan(), 7)]).positions == range(8, 9)
    assert log.verify().records == 8
    log.close()


def block(minutes: int) -> NewEvent:
    return new(MilestoneBlocked(reason="site_access", owner=Owner.CUSTOMER), minutes)


class RowsLog(SQLiteEventLog):
    """Given its records as rows, as a host backend is: the slow form of the columns appends give."""

    def _insert_many(self, writes: Any) -> None:
        super()._insert_many([([*records], rows, head) for records, rows, head in writes])

    def _insert(self, records: Any, attributes: Any, head: Any) -> None:
        super()._insert([*records], attributes, head)


def test_records_as_columns_are_stored_as_records_as_rows(tmp_path: Path) -> None:
    batches = synthetic_trail(synthetic_portfolio(orders=12, seed=4), seed=4)
    dumps = []
    for name, kind in (("columns", SQLiteEventLog), ("rows", RowsLog)):
        with kind(tmp_path / f"{name}.db", clock=ManualClock(), synchronous="normal") as log:
            for stream_id, events in batches[:30]:
                log.append(stream_id, events)
            log.append_many(batches[30:])
            assert log.verify().records == sum(len(events) for _, events in batches)
        db = sqlite3.connect(tmp_path / f"{name}.db")
        dumps.append(list(db.iterdump()))
        db.close()
    assert dumps[0] == dumps[1]
