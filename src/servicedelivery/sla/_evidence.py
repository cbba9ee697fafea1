"""The events behind a clock: those that started, paused, resumed, stopped or cancelled it."""

from __future__ import annotations

from typing import Any, NamedTuple

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.metrics import EventFrame
from servicedelivery.metrics._table import Column, Kind, Tabular

__all__ = ["CLOCK_EVENTS", "ClockEvent", "ClockEvidence"]

CLOCK_EVENTS: tuple[str, ...] = ("start", "pause", "resume", "stop", "cancel")
"""What an event did to a clock; columnar evidence stores it as its index here.

An event that starts a clock in a paused episode both starts and pauses it, and is listed twice,
``start`` first.
"""


class ClockEvent(NamedTuple):
    """One event that changed a clock.

    Attributes:
        kind: What it did: one of :data:`CLOCK_EVENTS`.
        row: Its row in the frame the clock was computed from.
        time: Its instant, ns since the epoch.
        event: Its event id, or its position when the frame has no ids.
    """

    kind: str
    row: int
    time: int
    event: object


@attrs.frozen(eq=False, repr=False)
class ClockEvidence(Tabular):
    """Every clock's events, as aligned columns sorted by item then time.

    Attributes:
        frame: The frame the rows index (the one the clocks were computed from).
        item: ``int32`` item code of each event (into ``frame.items``).
        row: ``int64`` frame row of each event.
        kind: ``int8`` index into :data:`CLOCK_EVENTS`.
        offsets: ``int64``, one more than there are items: item ``i``'s events are
            ``offsets[i]:offsets[i + 1]``.
    """

    frame: EventFrame
    item: npt.NDArray[np.int32]
    row: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int8]
    offsets: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.row)

    @property
    def time(self) -> npt.NDArray[np.int64]:
        """``int64`` instant of each event."""
        time: npt.NDArray[np.int64] = self.frame.time[self.row]
        return time

    @property
    def event(self) -> npt.NDArray[Any]:
        """Each event's id, or its position when the frame has no ids."""
        frame = self.frame
        events: npt.NDArray[Any] = (frame.position if frame.event_id is None else frame.event_id)[
            self.row
        ]
        return events

    def events_of(self, code: int) -> tuple[ClockEvent, ...]:
        """The events of the item with this code, in order."""
        part = slice(int(self.offsets[code]), int(self.offsets[code + 1]))
        rows = self.row[part]
        frame = self.frame
        ids = frame.position if frame.event_id is None else frame.event_id
        return tuple(
            ClockEvent(CLOCK_EVENTS[kind], row, time, event)
            for kind, row, time, event in zip(
                self.kind[part].tolist(),
                rows.tolist(),
                frame.time[rows].tolist(),
                ids[rows].tolist(),
                strict=True,
            )
        )

    def _title(self) -> str:
        return f"Clock evidence: {len(self):,} events"

    def _columns(self) -> list[Column]:
        return [
            Column("item", self.frame.items[self.item]),
            Column("kind", np.array(CLOCK_EVENTS, dtype=object)[self.kind]),
            Column("time", self.time, Kind.INSTANT),
            Column("event", self.event),
            Column("row", self.row),
        ]
