"""Episodes: the half-open intervals each item spent in one state (with one owner and reason).

An episode starts at an event that changes the item's (state, owner, reason) and lasts until the
next such change: ``[start, end)``. Events that repeat the current (state, owner, reason) extend the
episode rather than start a new one, which is why a ticket's "Resolved" followed by "Closed" (both
done) is one done episode starting at "Resolved". An item's last episode, whatever its state, ends at
``now``; for a done item that is how long it has been done. So an item's episodes tile
``[first event, now)`` exactly, without gaps or overlaps.

Two events of one item at the same instant give a zero-length episode ``[t, t)``: it lasts no time,
but it records that the state was entered, which counts for cycle time and throughput.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._frame import EventFrame
from servicedelivery.metrics._options import OPEN_STATES, as_instant
from servicedelivery.metrics._reading import OWNER_NAMES, STATE_NAMES
from servicedelivery.metrics._table import Column, Kind, Tabular, iso_instant

__all__ = ["Episodes", "episodes", "resolve_source"]


@attrs.frozen(eq=False, repr=False)
class Episodes(Tabular):
    """Every item's episodes as aligned columns, sorted by item then start.

    Attributes:
        frame: The frame the episodes come from, as of ``now``.
        now: The instant the episodes are seen at (ns since the epoch); last episodes end here.
        item: ``int32`` item code (into ``frame.items``).
        state: ``int8`` state code.
        owner: ``int8`` owner code, ``-1`` when not blocked.
        reason: ``int16`` reason code, ``-1`` when not blocked.
        start: ``int64`` instant the episode began (its first event's time).
        end: ``int64`` instant it ended: the next episode's start, or ``now`` for the last one.
        first_row: ``int64`` frame row of the event that began the episode.
        events: ``int64`` how many events the episode holds (the first and those that repeated it).
        last: ``bool``, whether this is its item's last episode (the current one at ``now``).
        offsets: ``int64``, one more than there are items: item ``i``'s episodes are
            ``offsets[i]:offsets[i + 1]``.
    """

    frame: EventFrame
    now: int
    item: npt.NDArray[np.int32]
    state: npt.NDArray[np.int8]
    owner: npt.NDArray[np.int8]
    reason: npt.NDArray[np.int16]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    first_row: npt.NDArray[np.int64]
    events: npt.NDArray[np.int64]
    last: npt.NDArray[np.bool_]
    offsets: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.item)

    @property
    def duration(self) -> npt.NDArray[np.int64]:
        """``int64`` nanoseconds each episode lasted: ``end - start``."""
        duration: npt.NDArray[np.int64] = self.end - self.start
        return duration

    def open_items(self) -> npt.NDArray[np.bool_]:
        """Per item, whether it is open at ``now``: its last episode's state is open."""
        return OPEN_STATES[self.state[self.offsets[1:] - 1]]

    def _title(self) -> str:
        return (
            f"Episodes: {len(self):,} episodes of {self.frame.item_count:,} items "
            f"as of {iso_instant(self.now)}"
        )

    def _columns(self) -> list[Column]:
        frame = self.frame
        columns = [
            Column("item", frame.items[self.item]),
            Column("state", np.array(STATE_NAMES, dtype=object)[self.state]),
            Column("owner", np.array([*OWNER_NAMES, None], dtype=object)[self.owner]),
            Column("reason", np.array([*frame.taxonomy.codes, None], dtype=object)[self.reason]),
            Column("start", self.start, Kind.INSTANT),
            Column("end", self.end, Kind.INSTANT),
            Column("duration", self.duration, Kind.DURATION),
            Column("events", self.events),
            Column("last", self.last),
        ]
        evidence = frame.position if frame.event_id is None else frame.event_id
        columns.append(Column("first_event", evidence[self.first_row]))
        return columns


def episodes(frame: EventFrame, *, now: object) -> Episodes:
    """Split every item's history into episodes, as of ``now``.

    Rows after ``now`` are ignored (the frame as it was known then); items with no row at or before
    ``now`` have no episodes.

    Args:
        frame: The events.
        now: The instant the history is seen at: an aware datetime or ns since the epoch.

    Returns:
        The episodes, sorted by item then start.

    Raises:
        ValidationError: ``now`` is not an instant.
    """
    at = as_instant(now, path="now")
    frame = frame.as_of(at)
    count = len(frame)
    # A row begins an episode when it is its item's first row, or when state, owner or reason differ
    # from the row before (which, rows being sorted by item, is the same item's previous row).
    begins = np.ones(count, dtype=np.bool_)
    if count:
        np.not_equal(frame.item[1:], frame.item[:-1], out=begins[1:])
        begins[1:] |= frame.state[1:] != frame.state[:-1]
        begins[1:] |= frame.owner[1:] != frame.owner[:-1]
        begins[1:] |= frame.reason[1:] != frame.reason[:-1]
    first_row = np.flatnonzero(begins)
    item = frame.item[first_row]
    start = frame.time[first_row]
    last = np.ones(len(first_row), dtype=np.bool_)
    np.not_equal(item[1:], item[:-1], out=last[:-1])
    end = np.empty(len(first_row), dtype=np.int64)
    end[:-1] = start[1:]
    end[last] = at
    events = np.diff(first_row, append=count)
    offsets = np.zeros(frame.item_count + 1, dtype=np.int64)
    offsets[1:] = np.flatnonzero(last) + 1
    return Episodes(
        frame=frame,
        now=at,
        item=item,
        state=frame.state[first_row],
        owner=frame.owner[first_row],
        reason=frame.reason[first_row],
        start=start,
        end=end,
        first_row=first_row.astype(np.int64),
        events=events.astype(np.int64),
        last=last,
        offsets=offsets,
    )


def resolve_source(
    source: EventFrame | Episodes, now: object | None, *, now_required: bool = False
) -> Episodes:
    """The episodes a metric reads: computed from a frame, or given (then ``now`` must agree).

    Without ``now``, a frame is seen as of its last event, unless ``now_required``.

    Raises:
        ValidationError: ``source`` is neither, ``now`` is required and missing, or ``now``
            contradicts the episodes' own.
    """
    given: object = source  # callers may pass anything; the annotation is the promise
    if now_required and now is None and isinstance(given, EventFrame):
        raise ValidationError.single(
            "now", None, "the instant to measure at (an aware datetime or ns since the epoch)"
        )
    if isinstance(given, Episodes):
        if now is not None and as_instant(now, path="now") != given.now:
            raise ValidationError.single(
                "now", now, f"the episodes' own now ({given.now}) or no now"
            )
        return given
    if isinstance(given, EventFrame):
        if now is None:
            now = given.last_time if len(given) else 0
        return episodes(given, now=now)
    raise ValidationError.single("source", given, "an EventFrame or Episodes")
