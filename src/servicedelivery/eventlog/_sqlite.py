"""The SQLite backend: one file, safe with several processes, on the standard library's sqlite3.

The file runs in WAL mode, so readers never block the writer. Every batch is one ``BEGIN
IMMEDIATE`` transaction: the write lock is taken before the stream is read, so two writers (in any
processes) are serialized and each sees the other's committed batches. The schema itself enforces
what must never break, whoever writes to the file: unique event ids, unique (stream, version),
gap-free positions and versions, and no ``UPDATE`` or ``DELETE`` of a recorded event.

Strings that repeat (stream ids, type names, triggers, owners, reasons, attribute keys and values)
are stored once, in the ``names`` and ``streams`` tables, and referenced by integer, so that
``read_columns`` is a few integer SELECTs straight into numpy.
"""

from __future__ import annotations

import functools
import operator
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
from servicedelivery.eventlog._log import AttributeRow, Clock, EventLog, utc_now
from servicedelivery.eventlog._records import StoredRecord, StreamHead
from servicedelivery.eventlog._registry import DEFAULT_REGISTRY, EventRegistry
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle
from servicedelivery.model import DEFAULT_TAXONOMY, Taxonomy

__all__ = ["SCHEMA_VERSION", "SQLiteEventLog"]

SCHEMA_VERSION = 1
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

CREATE TRIGGER events_positions_have_no_gaps BEFORE INSERT ON events
WHEN NEW.position <> (SELECT COALESCE(MAX(position), 0) + 1 FROM events)
BEGIN SELECT RAISE(ABORT, 'event positions must follow each other without gaps'); END;

CREATE TRIGGER events_versions_have_no_gaps BEFORE INSERT ON events
WHEN NEW.version <> (SELECT COALESCE(MAX(version), 0) + 1 FROM events WHERE stream = NEW.stream)
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

_INSERT_EVENT = (
    "INSERT INTO events (position, event_id, stream, version, type, schema_version, payload, "
    "occurred_at, recorded_at, actor, source, correlation_id, causation_id, hash, occurred_ns, "
    "recorded_ns, trigger, owner, reason, override, target_ns, sequence) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_COLUMNS = f"""
SELECT position, stream, type, occurred_ns, recorded_ns, COALESCE(trigger, -1),
       COALESCE(owner, -1), COALESCE(reason, -1), override, COALESCE(target_ns, {NO_TARGET}),
       COALESCE(sequence, -1)
FROM events WHERE position >= ? ORDER BY position
"""

# Rows become records without a Python call per row (``StoredRecord._make`` is a Python function).
_stored_record = functools.partial(tuple.__new__, StoredRecord)
# The fields of a record stored as ids of the names table: type, trigger, owner, reason.
_NAMED = operator.itemgetter(4, 16, 17, 18)

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
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                self._pending_names.clear()
                self._pending_streams.clear()
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._db.execute("ROLLBACK")
                self._pending_names.clear()
                self._pending_streams.clear()
                raise EventLogError(
                    f"{self._path}: the commit failed ({error}); nothing was written"
                ) from None
            self._names.update(self._pending_names)
            self._stream_keys.update(self._pending_streams)
            self._pending_names.clear()
            self._pending_streams.clear()

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
            row = self._db.execute(
                "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
            ).fetchone()
        return (0, GENESIS) if row is None else (row[0], row[1])

    def _stream_head(self, stream_id: str) -> StreamHead | None:
        with self._lock:
            row = self._db.execute(
                "SELECT version, state, last_occurred_ns FROM streams WHERE stream_id = ?",
                (stream_id,),
            ).fetchone()
        return None if row is None else StreamHead(stream_id, row[0], row[1], row[2])

    def _records_by_id(self, event_ids: Sequence[str]) -> list[StoredRecord]:
        found: list[StoredRecord] = []
        for start in range(0, len(event_ids), _CHUNK):
            chunk = list(event_ids[start : start + _CHUNK])
            marks = ", ".join("?" * len(chunk))
            found.extend(self._records(f"{_RECORD} WHERE e.event_id IN ({marks})", chunk))
        return found

    def _records(self, sql: str, parameters: Sequence[Any]) -> list[StoredRecord]:
        with self._lock:
            rows = self._db.execute(sql, parameters).fetchall()
        return list(map(_stored_record, rows))

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

    def _stream_key(self, head: StreamHead) -> int:
        db = self._db
        updated = db.execute(
            "UPDATE streams SET version = ?, state = ?, last_occurred_ns = ? WHERE stream_id = ?",
            (head.version, head.state, head.last_occurred_ns, head.stream_id),
        )
        key = self._stream_keys.get(head.stream_id) or self._pending_streams.get(head.stream_id)
        if updated.rowcount == 0:
            cursor = db.execute(
                "INSERT INTO streams (stream_id, version, state, last_occurred_ns) "
                "VALUES (?, ?, ?, ?)",
                (head.stream_id, head.version, head.state, head.last_occurred_ns),
            )
            key = cursor.lastrowid
        elif key is None:
            key = db.execute(
                "SELECT id FROM streams WHERE stream_id = ?", (head.stream_id,)
            ).fetchone()[0]
        assert key is not None
        self._pending_streams[head.stream_id] = key
        return key

    def _insert(
        self, records: Sequence[StoredRecord], attributes: Sequence[AttributeRow], head: StreamHead
    ) -> None:
        # The named fields come in few combinations: each distinct name is looked up once.
        combos = set(map(_NAMED, records))
        wanted = {name for combo in combos for name in combo if name is not None}
        wanted.update(name for _, key, value in attributes for name in (key, value))
        ids: dict[str | None, int | None] = {None: None}
        ids.update(self._ids(wanted))
        stream = self._stream_key(head)
        # A row is the record with its names replaced by their ids (see _INSERT_EVENT), made of
        # slices of the record: fewer steps per row than naming each field.
        rows = [
            (
                *r[:2],
                stream,
                r[3],
                ids[r[4]],
                *r[5:16],
                ids[r[16]],
                ids[r[17]],
                ids[r[18]],
                int(r[19]),
                *r[20:],
            )
            for r in records
        ]
        try:
            self._db.executemany(_INSERT_EVENT, rows)
            if attributes:
                self._db.executemany(
                    "INSERT INTO attributes (position, key, value) VALUES (?, ?, ?)",
                    [(position, ids[key], ids[value]) for position, key, value in attributes],
                )
        except sqlite3.IntegrityError as error:
            # The log's own checks passed under the write lock: the file disagrees with itself.
            raise IntegrityError(
                f"{self._path}: the database refused the batch ({error}); nothing was written",
                position=records[0].position,
            ) from None

    def _select_stream(
        self, stream_id: str, from_version: int, limit: int | None
    ) -> list[StoredRecord]:
        return self._records(
            f"{_RECORD} WHERE s.stream_id = ? AND e.version >= ? ORDER BY e.version LIMIT ?",
            (stream_id, from_version, -1 if limit is None else limit),
        )

    def _select_all(self, from_position: int, limit: int | None) -> list[StoredRecord]:
        return self._records(
            f"{_RECORD} WHERE e.position >= ? ORDER BY e.position LIMIT ?",
            (from_position, -1 if limit is None else limit),
        )

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
