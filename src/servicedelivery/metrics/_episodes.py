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

from functools import cached_property
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._frame import EventFrame
from servicedelivery.metrics._options import OPEN_STATES, as_instant, in_states
from servicedelivery.metrics._table import Column, Kind, Tabular, iso_instant, status_columns

__all__ = ["Episodes", "FromEpisodes", "Marked", "episodes", "resolve_source"]


@attrs.frozen(eq=False, repr=False)
class Episodes(Tabular):
    """Every item's episodes as aligned columns, sorted by item then start.

    Attributes:
        frame: The frame the episodes come from, as of ``now``.
        now: The instant the episodes are seen at (ns since the epoch); last episodes end here.
        state: ``int8`` state code.
        owner: ``int8`` owner code, ``-1`` when not blocked.
        reason: ``int16`` reason code, ``-1`` when not blocked.
        start: ``int64`` instant the episode began (its first event's time).
        begins: ``bool`` per frame row: whether the row begins an episode.
        offsets: ``int64``, one more than there are items: item ``i``'s episodes are
            ``offsets[i]:offsets[i + 1]``.

    The ``item``, ``end``, ``last`` and ``first_row`` columns are derived from these when first
    read.
    """

    frame: EventFrame
    now: int
    state: npt.NDArray[np.int8]
    owner: npt.NDArray[np.int8]
    reason: npt.NDArray[np.int16]
    start: npt.NDArray[np.int64]
    begins: npt.NDArray[np.bool_]
    offsets: npt.NDArray[np.int64]
    _firsts: dict[int, npt.NDArray[np.int64]] = attrs.field(factory=dict, init=False, repr=False)

    def __len__(self) -> int:
        return len(self.start)

    def first_in(self, lut: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """Per item, its first episode in the states ``lut`` selects, or -1 if none.

        Remembered per selection: cycle time and work item age both ask for the first committed
        episode, and the episodes never change.
        """
        key = int(np.packbits(lut, bitorder="little")[0])
        found = self._firsts.get(key)
        if found is None:
            found = Marked(in_states(self.state, lut), self.offsets).first()
            self._firsts[key] = found
        return found

    @cached_property
    def first_row(self) -> npt.NDArray[np.int64]:
        """``int64`` frame row of the event that began each episode."""
        return np.flatnonzero(self.begins).astype(np.int64)

    @cached_property
    def item(self) -> npt.NDArray[np.int32]:
        """``int32`` item code of each episode (into ``frame.items``)."""
        # A running count of item starts: one more at each item's first episode (but the first).
        starts = np.zeros(len(self), dtype=np.bool_)
        starts[self.offsets[1:-1]] = True
        return np.cumsum(starts, dtype=np.int32)

    @cached_property
    def last(self) -> npt.NDArray[np.bool_]:
        """``bool``, whether each episode is its item's last (the current one at ``now``)."""
        last = np.zeros(len(self), dtype=np.bool_)
        last[self.offsets[1:] - 1] = True
        return last

    @cached_property
    def end(self) -> npt.NDArray[np.int64]:
        """``int64`` instant each episode ended: the next episode's start, or ``now`` if last."""
        return self.ends(np.ones(len(self), dtype=np.bool_))

    def ends(self, episodes: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        """The end of some episodes only, without building the whole ``end`` column.

        Args:
            episodes: A boolean mask over the episodes, or their indexes.
        """
        if not len(self):
            return np.empty(0, dtype=np.int64)
        if episodes.dtype == np.bool_:
            # Each selected episode's successor is selected by the mask shifted by one; the very
            # last episode has none, and is its item's last, so its end is now anyway.
            following = np.empty(int(np.count_nonzero(episodes)), dtype=np.int64)
            shifted = self.start[1:][episodes[:-1]]
            following[: len(shifted)] = shifted
            following[len(shifted) :] = self.now
        else:
            following = self.start[np.minimum(episodes + 1, len(self) - 1)]
        # An item's last episode runs to now; any other ends where the next one begins.
        ends: npt.NDArray[np.int64] = np.where(self.last[episodes], self.now, following)
        return ends

    @property
    def duration(self) -> npt.NDArray[np.int64]:
        """``int64`` nanoseconds each episode lasted: ``end - start``."""
        duration: npt.NDArray[np.int64] = self.end - self.start
        return duration

    @property
    def events(self) -> npt.NDArray[np.int64]:
        """``int64`` how many events each episode holds (the first and those that repeated it)."""
        events: npt.NDArray[np.int64] = np.diff(self.first_row, append=len(self.frame))
        return events

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
            *status_columns(self.state, self.owner, self.reason, reasons=frame.taxonomy.codes),
            Column("start", self.start, Kind.INSTANT),
            Column("end", self.end, Kind.INSTANT),
            Column("duration", self.duration, Kind.DURATION),
            Column("events", self.events),
            Column("last", self.last),
        ]
        evidence = frame.position if frame.event_id is None else frame.event_id
        columns.append(Column("first_event", evidence[self.first_row]))
        return columns


class Marked:
    """The episodes where a mask holds, located per item without a loop.

    ``running`` counts marked episodes up to and including each episode, so an item's marked
    episodes are the ranks ``before[i]`` to ``through[i] - 1`` of ``positions``, the marked
    episodes' indexes in order: the first is ``positions[before[i]]``, the last
    ``positions[through[i] - 1]``.
    """

    def __init__(self, mask: npt.NDArray[np.bool_], offsets: npt.NDArray[np.int64]) -> None:
        self.positions = np.flatnonzero(mask)
        # Counts fit 32 bits for any frame under two billion episodes, and sum twice as fast.
        self.running: npt.NDArray[np.integer[Any]] = np.cumsum(
            mask, dtype=np.int32 if len(mask) < 2**31 else np.int64
        )
        self.through = self.running[offsets[1:] - 1]
        self.before = np.zeros_like(self.through)
        self.before[1:] = self.through[:-1]

    def _at(
        self, rank: npt.NDArray[np.integer[Any]], valid: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.int64]:
        if not len(self.positions):
            return np.full(len(rank), -1, dtype=np.int64)
        found = self.positions[np.clip(rank, 0, len(self.positions) - 1)]
        located: npt.NDArray[np.int64] = np.where(valid, found, -1)
        return located

    def first(self) -> npt.NDArray[np.int64]:
        """Per item, its first marked episode, or -1."""
        return self._at(self.before, self.through > self.before)

    def last(self) -> npt.NDArray[np.int64]:
        """Per item, its last marked episode, or -1."""
        return self._at(self.through - 1, self.through > self.before)

    def first_after(self, episode: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Per item, its first marked episode after ``episode`` (-1: from the item's start)."""
        rank: npt.NDArray[np.integer[Any]] = np.where(
            episode >= 0, self.running[np.maximum(episode, 0)], self.before
        )
        return self._at(rank, rank < self.through)

    def last_before(self, episode: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Per item, its last marked episode before ``episode``, which must be marked itself."""
        rank: npt.NDArray[np.integer[Any]] = self.running[np.maximum(episode, 0)] - 2
        return self._at(rank, (episode >= 0) & (rank >= self.before))


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
        np.not_equal(frame.state[1:], frame.state[:-1], out=begins[1:])
        begins[1:] |= frame.owner[1:] != frame.owner[:-1]
        begins[1:] |= frame.reason[1:] != frame.reason[:-1]
        begins[frame.offsets[:-1]] = True
    # Every item's first row begins an episode, so its rank among the beginnings is the item's
    # first episode; the ranks of the frame's item offsets are the episodes' item offsets.
    offsets = np.zeros(frame.item_count + 1, dtype=np.int64)
    if count:
        ranks = np.cumsum(begins, dtype=np.int32 if count < 2**31 else np.int64)
        offsets[1:] = ranks[frame.offsets[1:] - 1]
    # Selecting with the mask streams through each column once, faster than gathering by index.
    return Episodes(
        frame=frame,
        now=at,
        state=frame.state[begins],
        owner=frame.owner[begins],
        reason=frame.reason[begins],
        start=frame.time[begins],
        begins=begins,
        offsets=offsets,
    )


class FromEpisodes:
    """Mixin for results computed from episodes: their frame, ``now``, and the ids of their items.

    A subclass has the ``episodes`` it was computed from and an ``item`` code per row.
    """

    __slots__ = ()
    episodes: Episodes
    item: npt.NDArray[np.int32]

    @property
    def frame(self) -> EventFrame:
        """The frame the result comes from (as of ``now``)."""
        return self.episodes.frame

    @property
    def now(self) -> int:
        """The instant the result was computed at (ns since the epoch)."""
        return self.episodes.now

    @property
    def item_ids(self) -> npt.NDArray[Any]:
        """The item id of each row."""
        ids: npt.NDArray[Any] = self.frame.items[self.item]
        return ids


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
