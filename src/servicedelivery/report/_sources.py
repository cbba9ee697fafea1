"""Reading an event source into a frame: a CSV or JSON-lines file of events, or a SQLite event trail.

A file of events names its columns in a :class:`SourceSpec` (or takes the XES names that exported
process-mining logs use: ``case:concept:name`` and ``time:timestamp``), and gives each row's state
through a status map, a state column or a trigger column. Times without a UTC offset are read in a
time zone that must be named; a fixed-width format such as ``%d-%m-%Y %H:%M`` reads times that are not
ISO 8601. Reading shows progress on a terminal.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import os
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars._zone import zone_segments
from servicedelivery.errors import MISSING, FieldError, SourceError, ValidationError
from servicedelivery.eventlog import SQLiteEventLog
from servicedelivery.metrics import EventFrame
from servicedelivery.metrics._objects import object_array
from servicedelivery.model import StatusMap
from servicedelivery.policy import Escalations, escalations_from_columns
from servicedelivery.report._progress import SILENT, Progress
from servicedelivery.report._targets import TargetDates

__all__ = [
    "LoadedSource",
    "SourceSpec",
    "check_timezone",
    "instants",
    "is_trail",
    "load_source",
    "load_trail",
    "read_columns",
    "read_status_map",
]

_SQLITE_HEADER = b"SQLite format 3\x00"
_XES_ITEM, _XES_TIME = "case:concept:name", "time:timestamp"
_FIELDS = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}
_PROGRESS_EVERY = 20_000
_SPEC_KEYS = (
    "item",
    "time",
    "state",
    "status_map",
    "trigger",
    "owner",
    "reason",
    "event_id",
    "attributes",
    "time_format",
    "timezone",
    "missing",
)


def check_timezone(name: object, *, path: str = "timezone") -> str:
    """The name of an IANA time zone, checked.

    Raises:
        ValidationError: Not a zone this machine knows.
    """
    if isinstance(name, str) and name:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return name
    raise ValidationError.single(path, name, "an IANA time zone name such as 'Europe/Paris'")


@attrs.frozen
class SourceSpec:
    """How to read a file of events: which column holds what.

    Attributes:
        item: The column of item ids (default: ``case:concept:name`` when present).
        time: The column of instants (default: ``time:timestamp`` when present).
        state: A column of canonical states, when there is no status map.
        status_map: Maps the source's statuses to states, owners and reasons.
        trigger: A column of lifecycle triggers, when there is no state or status map.
        owner: A column of owners for blocked rows.
        reason: A column of reason codes for blocked rows.
        event_id: A column of event ids, kept as evidence.
        attributes: Report names (``provider``, ``region``, ``step``, ...) to the columns that
            hold them.
        time_format: A fixed-width format of the times (``%d-%m-%Y %H:%M``), when not ISO 8601.
        timezone: The zone of times written without a UTC offset.
        missing: Texts that mean "no value" (``?``, ``NULL``); the empty text always does.
    """

    item: str | None = None
    time: str | None = None
    state: str | None = None
    status_map: StatusMap | None = None
    trigger: str | None = None
    owner: str | None = None
    reason: str | None = None
    event_id: str | None = None
    attributes: Mapping[str, str] = attrs.field(factory=dict)
    time_format: str | None = None
    timezone: str | None = None
    missing: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: object, *, base: Path | None = None) -> SourceSpec:
        """Read a spec from JSON data; a ``status_map`` may be a path (relative to ``base``).

        Raises:
            ValidationError: Unknown keys and every bad value, all at once.
        """
        if not isinstance(data, dict):
            raise ValidationError.single("", data, "a JSON object naming the columns")
        errors = [
            FieldError(key, data[key], f"one of the keys {list(_SPEC_KEYS)}")
            for key in data
            if key not in _SPEC_KEYS
        ]
        errors.extend(
            FieldError(key, data[key], "a column name")
            for key in ("item", "time", "state", "trigger", "owner", "reason", "event_id")
            if key in data and not isinstance(data[key], str)
        )
        errors.extend(
            FieldError(key, data[key], "text")
            for key in ("time_format", "timezone")
            if key in data and data[key] is not None and not isinstance(data[key], str)
        )
        attributes = data.get("attributes", {})
        if not isinstance(attributes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
        ):
            errors.append(FieldError("attributes", attributes, "names to column names"))
            attributes = {}
        missing = data.get("missing", [])
        if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
            errors.append(FieldError("missing", missing, "a list of texts"))
            missing = []
        status_map = None
        given = data.get("status_map")
        if given is not None:
            try:
                status_map = read_status_map(given, base=base)
            except ValidationError as error:
                errors.extend(error.with_prefix("status_map").errors)
        if errors:
            raise ValidationError(errors, title="invalid source spec")
        return cls(
            item=data.get("item"),
            time=data.get("time"),
            state=data.get("state"),
            status_map=status_map,
            trigger=data.get("trigger"),
            owner=data.get("owner"),
            reason=data.get("reason"),
            event_id=data.get("event_id"),
            attributes=dict(attributes),
            time_format=data.get("time_format"),
            timezone=data.get("timezone"),
            missing=tuple(missing),
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> SourceSpec:
        """Read a spec from a JSON file.

        Raises:
            SourceError: The file cannot be read or is not JSON.
            ValidationError: As :meth:`from_data`.
        """
        return cls.from_data(_read_json(path, what="source spec"), base=Path(path).parent)


def read_status_map(given: object, *, base: Path | None = None) -> StatusMap:
    """A status map from its JSON data, or from the path of a JSON file holding it.

    Raises:
        SourceError: The file cannot be read or is not JSON.
        DefinitionError: The map contradicts itself.
    """
    if isinstance(given, (str, os.PathLike)):
        path = Path(given)
        if base is not None and not path.is_absolute():
            path = base / path
        given = _read_json(path, what="status map")
    return StatusMap.from_data(given)


@attrs.frozen(eq=False)
class LoadedSource:
    """What a source gave: the frame, target dates when the source records them, and its name.

    Attributes:
        frame: The events.
        targets: Target dates per item (a SQLite trail records them), or ``None``.
        name: What was read, for titles.
        kind: ``"sqlite"``, ``"csv"`` or ``"jsonl"``.
        escalations: The escalations a trail records, or ``None``.
    """

    frame: EventFrame
    targets: TargetDates | None
    name: str
    kind: str
    escalations: Escalations | None = None


def load_source(
    path: str | os.PathLike[str],
    *,
    spec: SourceSpec | None = None,
    progress: Progress = SILENT,
) -> LoadedSource:
    """Read an event source: a SQLite event trail, or a CSV / JSON-lines file of events.

    Files may be gzip-compressed (``.gz``). A SQLite file is recognized by its header, whatever
    its name; a file ending in ``.jsonl``, ``.ndjson`` or ``.json`` (before any ``.gz``) is read as
    JSON lines, anything else as CSV.

    Raises:
        SourceError: The file is missing, unreadable, or not an event source.
        ValidationError: Columns or values the spec does not fit (every problem listed), an
            unknown time zone, times without an offset and no zone to read them in.
        UnmappedStatusError: Statuses the status map does not cover, all of them.
    """
    name = os.fspath(path)
    if is_trail(name):
        if spec is not None and spec != SourceSpec():
            raise ValidationError.single(
                "spec", "column options", "no column options for a SQLite trail (it names its own)"
            )
        return load_trail(name, progress)
    spec = spec or SourceSpec()
    columns, kind = read_columns(name, spec, progress)
    with progress.task("building the frame", unit="events") as task:
        frame = _frame(columns, spec)
        task.update(len(frame))
    return LoadedSource(frame=frame, targets=None, name=name, kind=kind)


def is_trail(name: str) -> bool:
    """Whether the file ``name`` is a SQLite event trail, by its header, whatever its name.

    Raises:
        SourceError: There is no such file.
    """
    if not os.path.isfile(name):
        raise SourceError("no such file", source=name)
    with open(name, "rb") as handle:
        return handle.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER


def read_columns(
    name: str, spec: SourceSpec, progress: Progress
) -> tuple[dict[str, npt.NDArray[Any]], str]:
    """The columns a file of events holds, by role (``item``, ``time``, ``status:<column>``, ...).

    Raises:
        SourceError, ValidationError: As :func:`load_source`.
    """
    if spec.timezone is not None:
        check_timezone(spec.timezone)
    lower = name.lower().removesuffix(".gz")
    kind = "jsonl" if lower.endswith((".jsonl", ".ndjson", ".json")) else "csv"
    with progress.task(f"reading {name}", unit="rows") as task:
        try:
            with _open_text(name) as text:
                rows = _json_rows(text, name) if kind == "jsonl" else _csv_rows(text, name)
                columns, count = _columns(rows, spec, name=name, task_update=task.update)
        except UnicodeDecodeError:
            raise SourceError(
                "not a text file of events (CSV or JSON lines) nor a SQLite event trail",
                source=name,
            ) from None
        except (OSError, EOFError) as error:  # a broken gzip stream, say
            raise SourceError(f"cannot be read ({error})", source=name) from None
    if count == 0:
        raise SourceError("holds no events", source=name)
    return columns, kind


def load_trail(name: str, progress: Progress) -> LoadedSource:
    with progress.task(f"reading the trail {name}", unit="events") as task:
        log = SQLiteEventLog(name)
        try:
            columns = log.read_columns()
        finally:
            log.close()
        frame = EventFrame.from_event_columns(
            columns, lifecycle=log.lifecycle, taxonomy=log.taxonomy
        )
        task.update(len(columns))
    if not len(frame):
        raise SourceError("an event trail without milestone events", source=name)
    return LoadedSource(
        frame=frame,
        targets=TargetDates.from_event_columns(columns),
        name=name,
        kind="sqlite",
        escalations=escalations_from_columns(columns),
    )


def _read_json(path: str | os.PathLike[str], *, what: str) -> object:
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceError(
            f"cannot read the {what} ({error.__class__.__name__})", source=name
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"the {what} is not JSON ({error.msg} at line {error.lineno})", source=name
        ) from None


def _open_text(name: str) -> IO[str]:
    if name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(name, "rb"), encoding="utf-8", newline="")
    return open(name, encoding="utf-8", newline="")


def _csv_rows(text: IO[str], name: str) -> Iterator[dict[str, str] | list[str]]:
    reader = csv.reader(text)
    header = next(reader, None)
    if not header:
        raise SourceError("empty: no header row", source=name)
    yield header
    yield from reader


def _json_rows(text: IO[str], name: str) -> Iterator[dict[str, str] | list[str]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise SourceError(
                f"line {number} is not JSON ({error.msg}); expected one JSON object per line",
                source=name,
            ) from None
        if not isinstance(row, dict):
            raise SourceError(f"line {number} is not a JSON object", source=name)
        yield row


def _needed(spec: SourceSpec, present: Sequence[str]) -> dict[str, str]:
    """Each role the frame needs, and the source column it reads."""
    item = spec.item or (_XES_ITEM if _XES_ITEM in present else "item")
    time = spec.time or (_XES_TIME if _XES_TIME in present else "time")
    needed = {"item": item, "time": time}
    if spec.status_map is not None:
        needed.update({f"status:{c}": c for c in spec.status_map.columns})
    elif spec.trigger is not None:
        needed["trigger"] = spec.trigger
    else:
        needed["state"] = spec.state or "state"
    for role in ("owner", "reason", "event_id"):
        column = getattr(spec, role)
        if column is not None:
            needed[role] = column
    needed.update({f"attribute:{name}": column for name, column in spec.attributes.items()})
    return needed


def _columns(
    rows: Iterator[dict[str, str] | list[str]],
    spec: SourceSpec,
    *,
    name: str,
    task_update: Callable[[int], None],
) -> tuple[dict[str, npt.NDArray[Any]], int]:
    first = next(rows, None)
    if first is None:
        return {}, 0
    if isinstance(first, list):  # a CSV header
        header = first
        records: list[Any] = []
        for number, row in enumerate(rows, start=1):
            records.append(row)
            if not number % _PROGRESS_EVERY:
                task_update(number)
        present = header
        needed = _needed(spec, present)
        _check_present(needed, present)
        index = {column: position for position, column in enumerate(header)}
        width = len(header)
        short = [n for n, row in enumerate(records) if len(row) != width]
        if short:
            raise SourceError(
                f"{len(short)} row(s) do not have {width} fields like the header (the first is "
                f"row {short[0]}, counting from 0 after the header)",
                source=name,
            )
        table = np.array(records, dtype=object).reshape(len(records), width)
        columns = {column: table[:, index[column]] for column in set(needed.values())}
    else:
        records = [first]
        for number, row in enumerate(rows, start=2):
            records.append(row)
            if not number % _PROGRESS_EVERY:
                task_update(number)
        # Every record's keys, in order of first appearance: a column may start late in the file.
        present = list(dict.fromkeys(itertools.chain.from_iterable(records)))
        needed = _needed(spec, present)
        _check_present(needed, present)
        columns = {}
        for column in set(needed.values()):  # a handful of columns
            columns[column] = object_array([record.get(column) for record in records])
    task_update(len(records))
    missing = ["", *spec.missing]
    for values in columns.values():
        values[np.isin(values, missing)] = None
    return {role: columns[column] for role, column in needed.items()}, len(records)


def _check_present(needed: Mapping[str, str], present: Sequence[str]) -> None:
    absent = sorted({column for column in needed.values() if column not in present})
    if absent:
        shown = ", ".join(repr(name) for name in present[:20])
        raise ValidationError(
            [
                FieldError(column, MISSING, f"a column of the source (it has {shown})")
                for column in absent
            ],
            title="the source is not an event log with these columns",
        )


def _frame(columns: dict[str, npt.NDArray[Any]], spec: SourceSpec) -> EventFrame:
    times = instants(columns["time"], spec)
    named: dict[str, object] = {"item": columns["item"], "time": times}
    options: dict[str, Any] = {}
    if spec.status_map is not None:
        statuses = {
            key.split(":", 1)[1]: v for key, v in columns.items() if key.startswith("status:")
        }
        # Every status the map does not cover, each once with its count, before any row problem.
        spec.status_map.apply(statuses)
        named.update(statuses)
        options["status_map"] = spec.status_map
    elif "trigger" in columns:
        named["trigger"] = columns["trigger"]
        options["trigger"] = "trigger"
    else:
        named["state"] = columns["state"]
        options["state"] = "state"
    for role in ("owner", "reason", "event_id"):
        if role in columns:
            named[role] = columns[role]
            options[role] = role
    attributes = [key.split(":", 1)[1] for key in columns if key.startswith("attribute:")]
    named.update({name: columns[f"attribute:{name}"] for name in attributes})
    return EventFrame.from_columns(
        named, item="item", time="time", attributes=attributes, **options
    )


def instants(values: npt.NDArray[Any], spec: SourceSpec) -> npt.NDArray[Any]:
    """Times with an offset stay text for the frame to read; others are read in ``spec.timezone``."""
    present = values[values != None]  # noqa: E711 - elementwise comparison with None
    if not len(present):
        return values
    text = present.astype(str)
    if spec.time_format is None:
        # ISO 8601 with an offset ends in "Z" or in "+hh:mm" / "-hh:mm" after the date.
        tail = np.char.rfind(text, "+") > 10
        tail |= np.char.rfind(text, "-") > 10
        tail |= np.char.endswith(text, "Z")
        if tail.all():
            return values
        if tail.any():
            raise ValidationError.single(
                "time", str(text[~tail][0]), "times all with a UTC offset or all without one"
            )
    if spec.timezone is None:
        raise ValidationError.single(
            "time",
            str(text[0]),
            "a time with a UTC offset; these have none, so name the zone they were recorded in "
            '(--timezone, or "timezone" in the source spec)',
        )
    iso = text if spec.time_format is None else _reformat(text, spec.time_format)
    try:
        local = iso.astype("datetime64[ns]").astype(np.int64)
    except ValueError:
        # Name the value as the source wrote it, not as it was rewritten for parsing.
        bad = str(text[np.flatnonzero(iso == _first_unparsable(iso))[0]])
        raise ValidationError.single(
            "time", bad, f"a time in the format {spec.time_format or 'YYYY-MM-DD HH:MM[:SS]'}"
        ) from None
    years = local.view("M8[ns]").astype("M8[Y]").astype(np.int64) + 1970
    segments = zone_segments(spec.timezone, int(years.min()) - 1, int(years.max()) + 1)
    result = np.full(len(values), np.iinfo(np.int64).min, dtype=np.int64)
    result[values != None] = segments.to_instants(local)  # noqa: E711
    return result


def _reformat(text: npt.NDArray[np.str_], time_format: str) -> npt.NDArray[np.str_]:
    """Fixed-width times in ``time_format`` rewritten as ISO 8601, by moving characters."""
    tokens = re.findall(r"%[YmdHMS]|%.|[^%]", time_format)
    unknown = [t for t in tokens if t.startswith("%") and t not in _FIELDS]
    if unknown:
        raise ValidationError.single(
            "time_format", time_format, f"a fixed-width format of {', '.join(_FIELDS)} and literals"
        )
    width = sum(_FIELDS.get(token, 1) for token in tokens)
    lengths = np.char.str_len(text)
    if (lengths != width).any():
        raise ValidationError.single(
            "time", str(text[lengths != width][0]), f"a time in the format {time_format}"
        )
    chars = text.astype(f"U{width}").view("U1").reshape(len(text), width)
    where: dict[str, int] = {}
    position = 0
    for token in tokens:  # a handful of tokens
        if token in _FIELDS:
            where[token] = position
        position += _FIELDS.get(token, 1)

    def part(token: str, default: str) -> npt.NDArray[np.str_]:
        if token not in where:
            return np.full(len(text), default)
        start = where[token]
        size = _FIELDS[token]
        piece = np.ascontiguousarray(chars[:, start : start + size])
        return piece.view(f"U{size}").reshape(len(text))

    result = part("%Y", "1970")
    for separator, token, default in (
        ("-", "%m", "01"),
        ("-", "%d", "01"),
        ("T", "%H", "00"),
        (":", "%M", "00"),
        (":", "%S", "00"),
    ):
        result = np.char.add(np.char.add(result, separator), part(token, default))
    return result


def _first_unparsable(iso: npt.NDArray[np.str_]) -> str:
    for value in np.unique(iso).tolist():  # only on the error path, to name the culprit
        try:
            np.datetime64(value)
        except ValueError:
            return str(value)
    return str(iso[0])
