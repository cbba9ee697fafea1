"""SQLite storage alone: the backend's hooks for prebuilt records, against raw sqlite3 inserts.

``bench_eventlog`` times whole appends; this isolates what ``SQLiteEventLog`` adds to the shared
path (preparing, checking and hash-chaining a batch, measured there): the write transaction, the
reads an append makes (event ids, the stream's head, the log's last position) and the inserts, for
records built beforehand by the in-memory log.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks._harness import Result, best_of
from benchmarks.bench_eventlog import Batches, count, disk_bytes, long_streams, raw_sqlite
from servicedelivery.eventlog import (
    AttributeRow,
    InMemoryEventLog,
    SQLiteEventLog,
    StoredRecord,
    StreamHead,
)
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail

Prebuilt = list[tuple[list[StoredRecord], list[AttributeRow], StreamHead]]


def prebuilt(batches: Batches) -> Prebuilt:
    """Each batch's stored records, attribute rows and the stream's head after it."""
    memory = InMemoryEventLog()
    for stream_id, events in batches:
        memory.append(stream_id, events)
    records = memory._select_all(1, None)
    attributes: dict[int, list[AttributeRow]] = {}
    for row in memory._select_attributes(1, len(records)):
        attributes.setdefault(row[0], []).append(row)
    heads = {head.stream_id: head for head in memory._stream_heads()}
    result: Prebuilt = []
    start = 0
    for stream_id, events in batches:
        batch = records[start : start + len(events)]
        start += len(events)
        rows = [row for record in batch for row in attributes.get(record.position, ())]
        last = batch[-1]
        head = StreamHead(stream_id, last.version, heads[stream_id].state, last.occurred_ns)
        result.append((batch, rows, head))
    return result


def store_all(
    path: Path, batches: Prebuilt, synchronous: str, *, per_call: int = 1
) -> Callable[[], None]:
    """What ``append`` (or ``append_many``, ``per_call`` batches at once) asks of the backend."""

    def run() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        log = SQLiteEventLog(path, synchronous=synchronous)  # type: ignore[arg-type]
        for start in range(0, len(batches), per_call):
            call = batches[start : start + per_call]
            with log._write():
                for records, _, head in call:
                    log._records_by_id([record.event_id for record in records])
                    log._stream_head(head.stream_id)
                log._last()
                if per_call == 1:
                    log._insert(*call[0])
                else:
                    log._insert_many(call)
        log.close()

    return run


def run(*, quick: bool) -> list[Result]:
    long = long_streams(4 if quick else 20, 1_000)
    short = synthetic_trail(synthetic_portfolio(orders=200 if quick else 1_500, seed=11), seed=11)
    repeat = 1 if quick else 3
    results: list[Result] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench_sqlite_storage_"))
    try:
        shapes = (
            (long, "full", 1),
            (short, "full", 1),
            (short, "normal", 1),
            (short, "full", 1_000),
        )
        for batches, synchronous, per_call in shapes:
            events = count(batches)
            per_batch = events / len(batches)
            path = workdir / "hooks.db"
            store = store_all(path, prebuilt(batches), synchronous, per_call=per_call)
            seconds = best_of(store, repeat=repeat)
            reference = best_of(raw_sqlite(workdir / "raw.db", batches, synchronous), repeat=repeat)
            calls = "" if per_call == 1 else f", {per_call:,} batches per call (append_many)"
            results.append(
                Result(
                    f"SQLite storage hooks, {per_batch:,.0f} events/batch{calls}, "
                    f"synchronous={synchronous} ({events:,} events)",
                    seconds,
                    items=events,
                    unit="events",
                    reference="raw sqlite3 executemany, same batches",
                    reference_seconds=reference,
                    aim="< 15 us/event for 1,000-event batches" if batches is long else "",
                    extra={
                        "us/event": f"{seconds / events * 1e6:.1f}",
                        "us/batch": f"{seconds / len(batches) * 1e6:.0f}",
                        "raw us/batch": f"{reference / len(batches) * 1e6:.0f}",
                        "bytes/event": f"{disk_bytes(path) / events:,.0f}",
                    },
                )
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results
