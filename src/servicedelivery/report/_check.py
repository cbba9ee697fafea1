"""Checking a history against the lifecycle: every violation, with where it is in the source."""

from __future__ import annotations

import os
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import IntegrityError
from servicedelivery.eventlog import SQLiteEventLog
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, HistoryCheck
from servicedelivery.metrics._instants import epoch_ns_column
from servicedelivery.metrics._problems import RowProblems
from servicedelivery.report._progress import SILENT, Progress
from servicedelivery.report._sources import (
    SourceSpec,
    _frame,
    instants,
    is_trail,
    read_columns,
)

__all__ = ["SourceCheck", "check_source"]


@attrs.frozen(eq=False)
class SourceCheck:
    """The outcome of checking a source's history against the lifecycle.

    Attributes:
        source: What was checked.
        history: The lifecycle's verdict on every event.
        where: For each event the check saw, its place in the source: its input row number (0
            for the first row of data, as the frame's ``position``) or the trail's log position.
        where_label: ``"row"`` or ``"log position"``.
        integrity: For a trail, what its tamper check found (``None``: it verified).
    """

    source: str
    history: HistoryCheck
    where: npt.NDArray[np.int64]
    where_label: str
    integrity: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the history has no violation and, for a trail, verifies."""
        return self.history.ok and self.integrity is None

    def to_text(self, *, limit: int = 20) -> str:
        """The verdict as text: totals, counts by kind, the first ``limit`` violations."""
        history = self.history
        violations = len(history.positions)
        lines = [
            f"{self.source}: {history.events:,} events of {len(history.items):,} items checked "
            f"against the lifecycle {history.lifecycle.name!r} (by {history.by})"
        ]
        if self.integrity is not None:
            lines.append(f"  integrity: {self.integrity}")
        if not violations:
            lines.append("  no lifecycle violations")
            return "\n".join(lines) + "\n"
        counts = ", ".join(f"{kind.label} {count:,}" for kind, count in history.counts().items())
        lines.append(f"  {violations:,} violation{'s' if violations != 1 else ''}: {counts}")
        key = "trigger" if history.by == "trigger" else "target"
        for record in history.to_records(limit=limit):
            where = int(self.where[record["position"]])
            lines.append(
                f"  {self.where_label} {where}, item {record['item']!r}: {record['kind']} "
                f"({record[key]!r} from {record['state']!r})"
            )
        if violations > limit:
            lines.append(f"  ... and {violations - limit:,} more")
        return "\n".join(lines) + "\n"


def check_source(
    path: str | os.PathLike[str],
    *,
    spec: SourceSpec | None = None,
    progress: Progress = SILENT,
) -> SourceCheck:
    """Check a source's history against the default lifecycle, listing every violation.

    A file with a trigger column is checked trigger by trigger; a file with states (a state
    column or a status map) state by state: a recorded state is legal when some rule of the
    lifecycle leads there. A SQLite trail is checked by its triggers and by its tamper check.

    Raises:
        SourceError, ValidationError: As :func:`load_source`.
    """
    name = os.fspath(path)
    if is_trail(name):
        return _check_trail(name, progress)
    spec = spec or SourceSpec()
    columns, _ = read_columns(name, spec, progress)
    table = DEFAULT_LIFECYCLE.table
    with progress.task("checking the history", unit="events") as task:
        if "trigger" in columns:
            history = table.validate(
                columns["item"].astype(str),
                _named(columns["trigger"]),
                times=_epoch_ns(instants(columns["time"], spec)),
                owners=columns.get("owner"),
                reasons=columns.get("reason"),
            )
            where = np.arange(len(columns["item"]), dtype=np.int64)
        else:
            frame = _frame(columns, spec)
            history = table.validate_states(
                frame.items[frame.item].astype(str),
                frame.state,
                times=frame.time,
                owners=frame.owner,
                reasons=frame.reason,
                taxonomy=frame.taxonomy,
            )
            where = frame.position
        task.update(history.events)
    return SourceCheck(source=name, history=history, where=where, where_label="row")


def _named(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    # A row without a trigger planned the item: it is an observation, not a move.
    return np.where(values == None, "", values).astype(str)  # noqa: E711


def _epoch_ns(values: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Instants as ns: already so when read in a zone; else ISO text with offsets, parsed."""
    if values.dtype == np.int64:
        return values
    problems = RowProblems(len(values))
    times = epoch_ns_column(values, column="time", problems=problems)
    problems.raise_if_any()
    return times


def _check_trail(name: str, progress: Progress) -> SourceCheck:
    with progress.task(f"checking the trail {name}", unit="events") as task:
        log = SQLiteEventLog(name)
        try:
            integrity = None
            try:
                log.verify()
            except IntegrityError as error:
                integrity = str(error)
            columns = log.read_columns()
        finally:
            log.close()
        milestone = np.char.startswith(columns.streams.astype(str), "milestone:")[columns.stream]
        moves = np.flatnonzero(milestone & (columns.trigger >= 0))
        names = np.array(columns.triggers, dtype=object)
        history = log.lifecycle.table.validate(
            columns.streams[columns.stream[moves]].astype(str),
            names[columns.trigger[moves]].astype(str),
            owners=columns.owner[moves],
            reasons=columns.reason[moves],
            overrides=columns.override[moves],
            taxonomy=log.taxonomy,
        )
        task.update(len(columns))
    return SourceCheck(
        source=name,
        history=history,
        where=columns.position[moves],
        where_label="log position",
        integrity=integrity,
    )
