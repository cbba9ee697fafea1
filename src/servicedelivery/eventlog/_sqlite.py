"""The SQLite backend: one file, safe with several processes, on the standard library's sqlite3.

The file runs in WAL mode, so readers never block the writer. Every batch is one ``BEGIN
IMMEDIATE`` transaction: the write lock is taken before the stream is read, so two writers (in any
processes) are serialized and each sees the other's committed batches.

The schema itself enforces what must never break, whoever writes to the file:

- unique event ids (``UNIQUE`` index) and unique (stream, version) pairs;
- no ``UPDATE`` or ``DELETE`` of events, attributes or names, no ``DELETE`` of streams or of the
  head (triggers);
- gap-free positions and versions, checked once per batch rather than once per row. Every writer
  ends a batch by moving the one-row ``head`` table (the last position and its hash) and each
  written stream's ``version``; their triggers count the rows past the old value over the primary
  key or the ``(stream, version)`` index. With unique positions and versions, "as many rows past
  the old value as the new value is ahead of it, and none past the new value" means exactly the
  range between them: no gap, nothing beyond. Rows written without moving the head or the stream's
  version are not refused as they are inserted, but the next batch is (its counts include them),
  and ``verify`` reports them.

Strings that repeat (stream ids, type names, triggers, owners, reasons, attribute keys and values)
are stored once, in the ``names`` and ``streams`` tables, and referenced by integer, so that
``read_columns`` is a few integer SELECTs straight into numpy.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from servicedelivery.errors import (
    EventLogError,
    IntegrityError,
    SourceError,
    ValidationError,
)
from servicedelivery.eventlog._chain import GENESIS
from servicedelivery.eventlog._columns import NO_TARGET, Categorical, RawColumns
from servicedelivery.eventlog._log import (
    AttributeRow,
    Clock,
    EventLog,
    IdsAlreadyRecorded,
    utc_now,
)
from servicedelivery.eventlog._records import (
    EnvelopeRow,
    RecordColumns,
    StoredRecord,
    StreamHead,
    stored_record,
)
from servicedelivery.eventlog._registry import DEFAULT_REGISTRY, EventRegistry
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.model import DEFAULT_TAXONOMY, Taxonomy

__all__ = ["SCHEMA_VERSION", "SQLiteEventLog"]

SCHEMA_VERSION = 2
"""The version of the file layout (``PRAGMA user_version``); migrations will key on it."""

_APPLICATION_ID = 0x5344_4C47  # "SDLG": marks the file as a servicedelivery event log.

_SCHEMA = """
CREATE TABLE names (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE streams (
    id INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL CHECK (version >= 1),
    state TEXT,
    last_occurred_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL CHECK (position >= 0),
    hash TEXT NOT NULL
) STRICT;

CREATE TABLE events (
    position INTEGER PRIMARY KEY CHECK (position >= 1),
    event_id TEXT NOT NULL UNIQUE,
    stream INTEGER NOT NULL REFERENCES streams (id),
    version INTEGER NOT NULL CHECK (version >= 1),
    type INTEGER NOT NULL REFERENCES names (id),
    schema_version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT,
    source TEXT,
    correlation_id TEXT,
    causation_id TEXT,
    hash TEXT NOT NULL,
    occurred_ns INTEGER NOT NULL,
    recorded_ns INTEGER NOT NULL,
    trigger INTEGER REFERENCES names (id),
    owner INTEGER REFERENCES names (id),
    reason INTEGER REFERENCES names (id),
    override INTEGER NOT NULL CHECK (override IN (0, 1)),
    target_ns INTEGER,
    sequence INTEGER,
    UNIQUE (stream, version)
) STRICT;

CREATE TABLE attributes (
    position INTEGER NOT NULL REFERENCES events (position),
    key INTEGER NOT NULL REFERENCES names (id),
    value INTEGER NOT NULL REFERENCES names (id),
    PRIMARY KEY (position, key)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER positions_grow_without_gaps BEFORE UPDATE ON head
WHEN NEW.id <> OLD.id
    OR NEW.position < OLD.position
    OR (SELECT COUNT(*) FROM events WHERE position > OLD.position) <> NEW.position - OLD.position
    OR (SELECT MAX(position) FROM events) <> NEW.position
    OR (SELECT hash FROM events WHERE position = NEW.position) IS NOT NEW.hash
BEGIN SELECT RAISE(ABORT, 'event positions must follow each other without gaps'); END;

CREATE TRIGGER new_streams_have_no_gaps AFTER INSERT ON streams
WHEN (SELECT COUNT(*) FROM events WHERE stream = NEW.id) <> NEW.version
    OR (SELECT MAX(version) FROM events WHERE stream = NEW.id) <> NEW.version
BEGIN SELECT RAISE(ABORT, 'stream versions must follow each other without gaps'); END;

CREATE TRIGGER streams_grow_without_gaps AFTER UPDATE OF version ON streams
WHEN NEW.version < OLD.version
    OR (SELECT COUNT(*) FROM events WHERE stream = NEW.id AND version > OLD.version)
        <> NEW.version - OLD.version
    OR (SELECT MAX(version) FROM events WHERE stream = NEW.id) <> NEW.version
BEGIN SELECT RAISE(ABORT, 'stream versions must follow each other without gaps'); END;
"""

# Recorded rows are never changed or removed, whoever connects to the file.
_APPEND_ONLY = "".join(
    f"CREATE TRIGGER {table}_are_never_{verb.lower()}d BEFORE {verb} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'the event log is append-only: {table} are never "
    f"{verb.lower()}d'); END;\n"
    for table in ("events", "attributes", "names")
    for verb in ("UPDATE", "DELETE")
) + (
    "CREATE TRIGGER streams_are_never_deleted BEFORE DELETE ON streams "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: streams are never deleted'); END;\n"
    "CREATE TRIGGER head_is_never_deleted BEFORE DELETE ON head "
    "BEGIN SELECT RAISE(ABORT, 'the event log is append-only: its head is never deleted'); END;\n"
    "CREATE TRIGGER head_is_one_row BEFORE INSERT ON head WHEN (SELECT COUNT(*) FROM head) > 0 "
    "BEGIN SELECT RAISE(ABORT, 'the event log has one head'); END;\n"
)


_RECORD = """
SELECT e.position, e.event_id, s.stream_id, e.version, t.name, e.schema_version, e.payload,
       e.occurred_at, e.recorded_at, e.actor, e.source, e.correlation_id, e.causation_id, e.hash,
       e.occurred_ns, e.recorded_ns, tr.name, o.name, r.name, e.override, e.target_ns, e.sequence
FROM events AS e
JOIN streams AS s ON s.id = e.stream
JOIN names AS t ON t.id = e.type
LEFT JOIN names AS tr ON tr.id = e.trigger
LEFT JOIN names AS o ON o.id = e.owner
LEFT JOIN names AS r ON r.id = e.reason
"""

# What reads decode (an EnvelopeRow): the fourteen fields of the record itself, through its hash.
_ENVELOPE = """
SELECT e.position, e.event_id, s.stream_id, e.version, t.name, e.schema_version, e.payload,
       e.occurred_at, e.recorded_at, e.actor, e.source, e.correlation_id, e.causation_id, e.hash
FROM events AS e
JOIN streams AS s ON s.id = e.stream
JOIN names AS t ON t.id = e.type
"""

_INSERT_EVENT = (
    "INSERT INTO events (position, event_id, stream, version, type, schema_version, payload, "
    "occurred_at, recorded_at, actor, source, correlation_id, causation_id, hash, occurred_ns, "
    "recorded_ns, trigger, owner, reason, override, target_ns, sequence) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_SAVE_HEAD = "UPDATE head SET position = ?, hash = ? WHERE id = 1"

# One statement for a new stream and a known one: the streams' triggers check the new version.
_SAVE_STREAM = (
    "INSERT INTO streams (id, stream_id, version, state, last_occurred_ns) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state, "
    "last_occurred_ns = excluded.last_occurred_ns"
)

# What an append reads before it writes, in one statement: the stream's head (if any), the id a new
# stream would get, and the log's last position and hash.
_BEFORE_APPEND = """
SELECT s.id, s.version, s.state, s.last_occurred_ns,
       (SELECT COALESCE(MAX(id), 0) + 1 FROM streams), h.position, h.hash
FROM head AS h LEFT JOIN streams AS s ON s.stream_id = ?
"""

_COLUMNS = f"""
SELECT position, stream, type, occurred_ns, recorded_ns, COALESCE(trigger, -1),
       COALESCE(owner, -1), COALESCE(reason, -1), override, COALESCE(target_ns, {NO_TARGET}),
       COALESCE(sequence, -1)
FROM events WHERE position >= ? ORDER BY position
"""


# What SQLite says of an insert whose event id is recorded already (the events' UNIQUE index).
_RECORDED_ID = "UNIQUE constraint failed: events.event_id"


def _stream_query(
    select: str, stream_id: str, from_version: int, limit: int | None
) -> tuple[str, tuple[Any, ...]]:
    """The statement and parameters of a stream's rows from a version (``select`` is a SELECT)."""
    return (
        f"{select} WHERE s.stream_id = ? AND e.version >= ? ORDER BY e.version LIMIT ?",
        (stream_id, from_version, -1 if limit is None else limit),
    )


def _all_query(select: str, from_position: int, limit: int | None) -> tuple[str, tuple[Any, ...]]:
    """The statement and parameters of the rows from a position (``select`` is a SELECT)."""
    return (
        f"{select} WHERE e.position >= ? ORDER BY e.position LIMIT ?",
        (from_position, -1 if limit is None else limit),
    )


_CHUNK = 500  # ids per IN (...) query, well under SQLite's limit on bound variables


class SQLiteEventLog(EventLog):
    """An event log in one SQLite file.

    Several processes may open the same file and append concurrently; appends are serialized by the
    database's write lock, waiting up to ``timeout`` seconds for it. One object may be shared by
    threads (its calls are serialized).

    Args:
        path: The database file; created with the log's schema if it does not exist.
        lifecycle: The milestone lifecycle appends are checked against.
        taxonomy: The blocked reasons that blocks may name.
        registry: The event types the log records and reads.
        clock: Stamps ``recorded_at``; must return an aware datetime.
        synchronous: ``"full"`` (the default) makes every acknowledged batch survive a power cut:
            each commit waits for the disk. ``"normal"`` survives a crash of the process (the
            acknowledged batches stay) but may lose the last batches on a power cut, and commits
            much faster.
        timeout: How long to wait for another process's write lock, in seconds.

    Raises:
        SourceError: The file is not a SQLite database, or not an event log of this schema version.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lifecycle: Lifecycle = DEFAULT_LIFECYCLE,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        registry: EventRegistry = DEFAULT_REGISTRY,
        clock: Clock = utc_now,
        synchronous: Literal["full", "normal"] = "full",
        timeout: float = 30.0,
    ) -> None:
        super().__init__(lifecycle=lifecycle, taxonomy=taxonomy, registry=registry, clock=clock)
        if synchronous not in ("full", "normal"):
            raise ValidationError.single("synchronous", synchronous, "'full' or 'normal'")
        self._path = os.fspath(path)
        self._lock = threading.RLock()
        # Ids of names and streams are never reused once committed, so they are cached; ids created
        # by a transaction join the cache only once it commits.
        self._names: dict[str, int] = {}
        self._stream_keys: dict[str, int] = {}
        self._pending_names: dict[str, int] = {}
        self._pending_streams: dict[str, int] = {}
        # Inside a write transaction, what ``_stream_head`` read besides the head: the log's last
        # position and hash, and the id a new stream gets. Nothing else writes until it ends.
        self._writing = False
        self._last_seen: tuple[int, str] | None = None
        self._next_stream = 0
        try:
            self._db = sqlite3.connect(
                self._path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise SourceError(f"cannot open the database ({error})", source=self._path) from None
        try:
            self._open(synchronous)
        except BaseException:
            self._db.close()
            raise

    # The unique index on event ids refuses a recorded id: appends write without looking first.
    _refuses_recorded_ids = True

    def __repr__(self) -> str:
        return f"<SQLiteEventLog {self._path!r}>"

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    def _open(self, synchronous: str) -> None:
        db = self._db
        try:
            # Look before changing anything: another application's database is left untouched.
            application_id = db.execute("PRAGMA application_id").fetchone()[0]
            user_version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT COUNT(*) FROM sqlite_schema").fetchone()[0]
            fresh = application_id == 0 and user_version == 0 and tables == 0
            if not fresh and application_id != _APPLICATION_ID:
                raise SourceError(
                    "not a servicedelivery event log (an existing SQLite database of another "
                    "application)",
                    source=self._path,
                )
            if not fresh and user_version != SCHEMA_VERSION:
                raise SourceError(
                    f"an event log of schema version {user_version}; this library reads "
                    f"version {SCHEMA_VERSION}",
                    source=self._path,
                )
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            db.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            if fresh:
                self._create()
        except sqlite3.DatabaseError as error:
            raise SourceError(
                f"not a usable SQLite database ({error})", source=self._path
            ) from None
        if mode != "wal" and self._path != ":memory:":
            raise SourceError(f"cannot use WAL mode (journal mode is {mode!r})", source=self._path)

    def _create(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have created the log since we looked.
            if db.execute("PRAGMA application_id").fetchone()[0] == _APPLICATION_ID:
                db.execute("ROLLBACK")
                return
            # One by one: executescript would commit the transaction first.
            for statement in (_SCHEMA + _APPEND_ONLY).split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO head (id, position, hash) VALUES (1, 0, ?)", (GENESIS,))
            db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise EventLogError(
                    f"{self._path}: could not take the write lock ({error}); nothing was written"
                ) from None
            self._writing = True
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._end_write(committed=False)
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._db.execute("ROLLBACK")
                self._end_write(committed=False)
                raise EventLogError(
                    f"{self._path}: the commit failed ({error}); nothing was written"
                ) from None
            self._end_write(committed=True)

    def _end_write(self, *, committed: bool) -> None:
        if committed:
            self._names.update(self._pending_names)
            self._stream_keys.update(self._pending_streams)
        self._pending_names.clear()
        self._pending_streams.clear()
        self._writing = False
        self._last_seen = None

    @contextmanager
    def _read(self) -> Iterator[None]:
        with self._lock:
            # A deferred transaction reads one snapshot of a WAL database until it ends.
            self._db.execute("BEGIN")
            try:
                yield
            finally:
                self._db.execute("COMMIT")

    def _last(self) -> tuple[int, str]:
        with self._lock:
            if self._last_seen is not None:
                return self._last_seen
            position, hash = self._db.execute("SELECT position, hash FROM head").fetchone()
        return position, hash

    def _stream_head(self, stream_id: str) -> StreamHead | None:
        with self._lock:
            key, version, state, last_ns, next_stream, position, hash = self._db.execute(
                _BEFORE_APPEND, (stream_id,)
            ).fetchone()
            if self._writing:
                # Read under the write lock, so they hold until this transaction writes.
                self._last_seen = (position, hash)
                self._next_stream = next_stream
            if key is None:
                return None
            # A stream's id never changes once committed, and this one was.
            self._stream_keys[stream_id] = key
        return StreamHead(stream_id, version, state, last_ns)

    def _records_by_id(self, event_ids: Sequence[str]) -> list[StoredRecord]:
        db = self._db
        found: list[StoredRecord] = []
        with self._lock:
            for start in range(0, len(event_ids), _CHUNK):
                chunk = list(event_ids[start : start + _CHUNK])
                marks = ", ".join("?" * len(chunk))
                # Most ids are new: look them up in the index alone, and read records only if any.
                if db.execute(
                    f"SELECT 1 FROM events WHERE event_id IN ({marks})", chunk
                ).fetchone():
                    found.extend(self._records(f"{_RECORD} WHERE e.event_id IN ({marks})", chunk))
        return found

    def _records(self, sql: str, parameters: Sequence[Any]) -> list[StoredRecord]:
        return list(map(stored_record, self._rows(sql, parameters)))

    def _ids(self, names: set[str]) -> dict[str, int]:
        """The ids of these names, creating the missing ones (inside the write transaction)."""
        known: dict[str, int | None] = {
            name: self._names.get(name) or self._pending_names.get(name) for name in names
        }
        missing = [name for name, code in known.items() if code is None]
        if missing:
            db = self._db
            db.executemany("INSERT OR IGNORE INTO names (name) VALUES (?)", [(n,) for n in missing])
            for start in range(0, len(missing), _CHUNK):
                chunk = missing[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                rows = db.execute(f"SELECT name, id FROM names WHERE name IN ({marks})", chunk)
                self._pending_names.update(rows.fetchall())
            known.update((name, self._pending_names[name]) for name in missing)
        return {name: code for name, code in known.items() if code is not None}

    def _insert(
        self, records: Sequence[StoredRecord], attributes: Sequence[AttributeRow], head: StreamHead
    ) -> None:
        self._store(records, attributes, [head])

    def _insert_many(
        self, writes: Sequence[tuple[Sequence[StoredRecord], Sequence[AttributeRow], StreamHead]]
    ) -> None:
        # One statement per table for the whole call. Each stream is saved once, at its last head:
        # its trigger then counts every version the call added to it.
        heads = {head.stream_id: head for _, _, head in writes}
        self._store(
            RecordColumns.joined([records for records, _, _ in writes]),
            [row for _, rows, _ in writes for row in rows],
            list(heads.values()),
        )

    def _stream_ids(self, stream_ids: list[str]) -> dict[str, int]:
        """The ids of these streams, with new ids for new streams (inside the write transaction)."""
        keys: dict[str, int] = {}
        unknown = []
        for stream_id in stream_ids:
            key = self._stream_keys.get(stream_id) or self._pending_streams.get(stream_id)
            if key is None:
                unknown.append(stream_id)
            else:
                keys[stream_id] = key
        if not unknown:
            return keys
        if self._last_seen is None:  # nothing read since the last write: look the streams up
            marks = ", ".join("?" * len(unknown))
            found = self._db.execute(
                f"SELECT stream_id, id FROM streams WHERE stream_id IN ({marks})", unknown
            ).fetchall()
            keys.update(found)
            unknown = [stream_id for stream_id in unknown if stream_id not in keys]
            first = self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM streams").fetchone()[0]
        else:  # _stream_head read it under the write lock, and no stream was written since
            first = self._next_stream
        keys.update(zip(unknown, count(first)))
        return keys

    def _store(
        self,
        records: Sequence[StoredRecord],
        attributes: Sequence[AttributeRow],
        heads: list[StreamHead],
    ) -> None:
        db = self._db
        # The records as columns (in the order of StoredRecord, as appends give them); every step
        # below runs over whole columns, in C.
        columns = RecordColumns.of(records).columns
        positions, hashes = columns[0], columns[13]
        types, triggers, owners, reasons = columns[4], columns[16], columns[17], columns[18]
        # The named fields take few values: each distinct name is looked up once.
        wanted = {*types, *triggers, *owners, *reasons}
        wanted.discard(None)
        wanted.update(name for _, key, value in attributes for name in (key, value))
        ids: dict[str | None, int | None] = {None: None}
        ids.update(self._ids(wanted))
        name_id = ids.__getitem__
        streams = self._stream_ids([head.stream_id for head in heads])
        self._last_seen = None
        # A row is the record with the stream and the names replaced by their ids (_INSERT_EVENT).
        rows = zip(
            columns[0],
            columns[1],
            map(streams.__getitem__, columns[2]),
            columns[3],
            map(name_id, types),
            *columns[5:16],
            map(name_id, triggers),
            map(name_id, owners),
            map(name_id, reasons),
            *columns[19:],
            strict=True,
        )
        try:
            db.executemany(_INSERT_EVENT, rows)
            if attributes:
                db.executemany(
                    "INSERT INTO attributes (position, key, value) VALUES (?, ?, ?)",
                    [(position, ids[key], ids[value]) for position, key, value in attributes],
                )
            # The triggers of streams and head check the rows just written: no gaps.
            db.executemany(
                _SAVE_STREAM,
                [(streams[head.stream_id], *head) for head in heads],
            )
            db.execute(_SAVE_HEAD, (positions[-1], hashes[-1]))
        except sqlite3.IntegrityError as error:
            if str(error) == _RECORDED_ID:  # a retry or a conflict: the log looks the ids up
                raise IdsAlreadyRecorded from None
            # The log's own checks passed under the write lock: the file disagrees with itself.
            raise IntegrityError(
                f"{self._path}: the database refused the batch ({error}); nothing was written",
                position=positions[0],
            ) from None
        self._pending_streams.update(streams)

    def _select_stream(
        self, stream_id: str, from_version: int, limit: int | None
    ) -> list[StoredRecord]:
        return self._records(*_stream_query(_RECORD, stream_id, from_version, limit))

    def _select_all(self, from_position: int, limit: int | None) -> list[StoredRecord]:
        return self._records(*_all_query(_RECORD, from_position, limit))

    def _select_stream_envelopes(
        self, stream_id: str, from_version: int, limit: int | None
    ) -> list[EnvelopeRow]:
        return self._rows(*_stream_query(_ENVELOPE, stream_id, from_version, limit))

    def _select_envelopes(self, from_position: int, limit: int | None) -> list[EnvelopeRow]:
        return self._rows(*_all_query(_ENVELOPE, from_position, limit))

    def _rows(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            rows: list[tuple[Any, ...]] = self._db.execute(sql, parameters).fetchall()
        return rows

    def _select_attributes(self, from_position: int, to_position: int) -> list[AttributeRow]:
        with self._lock:
            return self._db.execute(
                "SELECT a.position, k.name, v.name FROM attributes AS a "
                "JOIN names AS k ON k.id = a.key JOIN names AS v ON v.id = a.value "
                "WHERE a.position BETWEEN ? AND ? ORDER BY a.position, k.name",
                (from_position, to_position),
            ).fetchall()

    def _dictionary(self, sql: str) -> npt.NDArray[np.object_]:
        """A table of (id, text) as an array indexed by id."""
        rows = self._db.execute(sql).fetchall()
        table = np.array(rows, dtype=object).reshape(len(rows), 2)
        ids = table[:, 0].astype(np.int64)
        result = np.empty(int(ids.max()) + 1 if len(ids) else 0, dtype=object)
        result[ids] = table[:, 1]
        return result

    def _select_columns(self, from_position: int) -> RawColumns:
        db = self._db
        rows = db.execute(_COLUMNS, (from_position,)).fetchall()
        table = np.array(rows, dtype=np.int64).reshape(len(rows), 11)
        event_ids = np.array(
            db.execute(
                "SELECT event_id FROM events WHERE position >= ? ORDER BY position",
                (from_position,),
            ).fetchall(),
            dtype=object,
        ).reshape(len(rows))
        attributes = np.array(
            db.execute(
                "SELECT position, key, value FROM attributes WHERE position >= ?",
                (from_position,),
            ).fetchall(),
            dtype=np.int64,
        ).reshape(-1, 3)
        names = self._dictionary("SELECT id, name FROM names")
        streams = self._dictionary("SELECT id, stream_id FROM streams")
        return RawColumns(
            position=table[:, 0],
            event_id=event_ids,
            stream=Categorical(table[:, 1], streams),
            type=Categorical(table[:, 2], names),
            occurred_ns=table[:, 3],
            recorded_ns=table[:, 4],
            trigger=Categorical(table[:, 5], names),
            owner=Categorical(table[:, 6], names),
            reason=Categorical(table[:, 7], names),
            override=table[:, 8].astype(bool),
            target_ns=table[:, 9],
            sequence=table[:, 10],
            attribute_position=attributes[:, 0],
            attribute_key=Categorical(attributes[:, 1], names),
            attribute_value=Categorical(attributes[:, 2], names),
        )

    def _stream_heads(self) -> list[StreamHead]:
        with self._lock:
            rows = self._db.execute(
                "SELECT stream_id, version, state, last_occurred_ns FROM streams"
            ).fetchall()
        return [StreamHead._make(row) for row in rows]

    def _close(self) -> None:
        with self._lock:
            self._db.close()
