"""Time in state, split by owner and reason, and flow efficiency.

Both add up whole episodes, so they inherit the episodes' definition: half-open intervals, the last
one of each item ending at ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._durations import DEFAULT_END, DEFAULT_START, passes
from servicedelivery.metrics._episodes import Episodes, FromEpisodes, resolve_source
from servicedelivery.metrics._frame import EventFrame
from servicedelivery.metrics._options import (
    REOPENED,
    Reopened,
    check_choice,
    in_states,
    state_lut,
)
from servicedelivery.metrics._reading import OWNER_NAMES, STATE_NAMES
from servicedelivery.metrics._table import Column, Kind, Tabular, iso_instant, status_columns
from servicedelivery.metrics._timescale import Calendar, TimeScale

__all__ = [
    "SPLITS",
    "FlowEfficiency",
    "StateDurations",
    "flow_efficiency",
    "time_in_state",
]

SPLITS: tuple[str, ...] = ("owner", "reason")
"""What time in state can be split by, besides the state itself."""


@attrs.frozen(eq=False, repr=False)
class StateDurations(FromEpisodes, Tabular):
    """Total time per item and state (and owner, reason, when split by them).

    One row per combination an item had at least one episode in (a zero-length episode counts),
    sorted by state, owner, reason, then item.

    Attributes:
        episodes: The episodes they were computed from.
        split: What the rows are split by besides the state: a subset of ``("owner", "reason")``.
        item: ``int32`` item code.
        state: ``int8`` state code.
        owner: ``int8`` owner code; ``-1`` when not blocked or not split by owner.
        reason: ``int16`` reason code; ``-1`` when not blocked or not split by reason.
        duration: ``int64`` total nanoseconds, exact (working time under ``scale``'s calendar,
            if any).
        count: ``int64`` how many episodes were added up.
        scale: How durations are counted: elapsed time, or working time.
    """

    episodes: Episodes
    split: tuple[str, ...]
    item: npt.NDArray[np.int32]
    state: npt.NDArray[np.int8]
    owner: npt.NDArray[np.int8]
    reason: npt.NDArray[np.int16]
    duration: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    scale: TimeScale = TimeScale()

    metric = "time in state"

    def __len__(self) -> int:
        return len(self.item)

    @property
    def calendar(self) -> Calendar | None:
        """The calendar durations are counted in (``None``: elapsed time)."""
        return self.scale.calendar

    def _title(self) -> str:
        split = " and ".join(("state", *self.split))
        counted = f" in {self.scale.describe()}" if self.scale.working else ""
        return (
            f"Time in state{counted} by {split}: {len(self):,} rows, as of {iso_instant(self.now)}"
        )

    def _columns(self) -> list[Column]:
        return [
            Column("item", self.item_ids),
            *status_columns(self.state, self.owner, self.reason, reasons=self.frame.taxonomy.codes),
            Column("duration", self.duration, Kind.DURATION),
            Column("episodes", self.count),
            *(
                Column(name, column.take(self.item).labels())
                for name, column in self.frame.item_attributes.items()
            ),
        ]


def time_in_state(
    source: EventFrame | Episodes,
    *,
    now: object | None = None,
    states: Iterable[object] | None = None,
    by: Iterable[str] = (),
    calendar: Calendar | None = None,
) -> StateDurations:
    """Total time every item spent in each state, optionally split by owner and by reason.

    The time in a state is the sum of the item's episodes in it, each ``end - start``; the last
    episode runs to ``now`` whatever its state. With ``calendar``, each episode counts its working
    time instead (see :func:`~servicedelivery.metrics.cycle_time`), so a block over a weekend costs
    only the working hours on either side of it.

    Args:
        source: The events, or episodes already computed.
        now: The instant the time is measured at; required with a frame.
        states: Only these states (default: all).
        by: Also split by ``"owner"``, ``"reason"`` or both.
        calendar: Count working time under one calendar, or each item's from a calendar set.

    Returns:
        One row per (item, state[, owner][, reason]) with at least one episode.

    Raises:
        ValidationError: ``now`` missing for a frame, an unknown state or split, a bad calendar.
    """
    episodes = resolve_source(source, now, now_required=True)
    scale = TimeScale.of(calendar, episodes.frame)
    split = tuple(by) if not isinstance(by, str) else (by,)
    unknown = [name for name in split if name not in SPLITS]
    if unknown or len(set(split)) != len(split):
        raise ValidationError.single("by", split, f"distinct names from {SPLITS}")
    split = tuple(name for name in SPLITS if name in split)
    # All episodes by mask (selecting with a full mask streams through each column once); a few
    # states by index, which numpy gathers faster than it selects with a scattered mask.
    if states is None:
        rows: npt.NDArray[Any] = np.ones(len(episodes), dtype=np.bool_)
    else:
        rows = np.flatnonzero(in_states(episodes.state, state_lut(states, path="states")))
    owners = len(OWNER_NAMES) + 1 if "owner" in split else 1
    reasons = len(episodes.frame.taxonomy.codes) + 1 if "reason" in split else 1
    keys = len(STATE_NAMES) * owners * reasons
    # One small integer per (state, owner, reason) combination, in that order of significance;
    # owner and reason shifted by one so that -1 (none) is 0. Unsplit parts are always 0.
    dtype = np.uint16 if keys <= 2**16 else np.int64
    key: npt.NDArray[Any] = episodes.state[rows].astype(dtype)
    if "owner" in split:
        key = key * owners + (episodes.owner[rows] + 1).astype(dtype)
    if "reason" in split:
        key = key * reasons + (episodes.reason[rows] + 1).astype(dtype)
    item = episodes.item[rows]
    duration = scale.between(episodes.start[rows], episodes.ends(rows), item)
    per_key = np.bincount(key, minlength=keys)
    if np.count_nonzero(per_key) > 1:
        # Rows are in item order; a stable sort by the key keeps them so within each key, which
        # makes the rows of one (key, item) contiguous for one reduceat. A 16-bit key sorts by
        # radix, in linear time, and the sorted keys are just each key repeated its count.
        order = np.argsort(key, kind="stable")
        key = np.repeat(np.arange(keys, dtype=dtype), per_key)
        item, duration = item[order], duration[order]
    begins = np.ones(len(key), dtype=np.bool_)
    begins[1:] = (key[1:] != key[:-1]) | (item[1:] != item[:-1])
    starts = np.flatnonzero(begins)
    totals = np.add.reduceat(duration, starts) if len(starts) else duration
    # Decode each combination with small tables rather than dividing every row's key.
    combination = np.arange(keys)
    first = key[starts]
    return StateDurations(
        episodes=episodes,
        split=split,
        item=item[starts],
        state=(combination // (owners * reasons)).astype(np.int8)[first],
        owner=(combination // reasons % owners - 1).astype(np.int8)[first]
        if "owner" in split
        else np.full(len(first), -1, dtype=np.int8),
        reason=(combination % reasons - 1).astype(np.int16)[first]
        if "reason" in split
        else np.full(len(first), -1, dtype=np.int16),
        duration=totals.astype(np.int64),
        count=np.diff(starts, append=len(key)).astype(np.int64),
        scale=scale,
    )


@attrs.frozen(eq=False, repr=False)
class FlowEfficiency(FromEpisodes, Tabular):
    """Flow efficiency of completed items: the share of their cycle time spent in active states.

    Attributes:
        episodes: The episodes they were computed from.
        item: ``int32`` item code.
        active: ``int64`` ns spent in active states within the cycle time.
        total: ``int64`` ns of cycle time.
        scale: How both are counted: elapsed time, or working time.
    """

    episodes: Episodes
    item: npt.NDArray[np.int32]
    active: npt.NDArray[np.int64]
    total: npt.NDArray[np.int64]
    scale: TimeScale = TimeScale()

    def __len__(self) -> int:
        return len(self.item)

    @property
    def calendar(self) -> Calendar | None:
        """The calendar both times are counted in (``None``: elapsed time)."""
        return self.scale.calendar

    @property
    def ratio(self) -> npt.NDArray[np.float64]:
        """``active / total`` per item; NaN where the cycle time is 0 (no time to be efficient in)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio: npt.NDArray[np.float64] = np.where(
                self.total > 0, self.active / np.maximum(self.total, 1), np.nan
            )
        return ratio

    @property
    def overall(self) -> float:
        """Total active time over total cycle time across all items (NaN if there is none).

        Sums are exact Python integers, so no overflow however many items.
        """
        total = int(self.total.astype(object).sum()) if len(self) else 0
        active = int(self.active.astype(object).sum()) if len(self) else 0
        return active / total if total else float("nan")

    def _title(self) -> str:
        overall = self.overall
        text = "n/a" if np.isnan(overall) else f"{overall:.1%}"
        counted = f" in {self.scale.describe()}" if self.scale.working else ""
        return f"Flow efficiency{counted}: {len(self):,} items, overall {text}"

    def _columns(self) -> list[Column]:
        return [
            Column("item", self.item_ids),
            Column("active", self.active, Kind.DURATION),
            Column("total", self.total, Kind.DURATION),
            Column("ratio", self.ratio),
        ]


def flow_efficiency(
    source: EventFrame | Episodes,
    *,
    active: Iterable[object] = ("in_progress",),
    start: Iterable[object] = DEFAULT_START,
    end: Iterable[object] = DEFAULT_END,
    reopened: Reopened = "span",
    now: object | None = None,
    calendar: Calendar | None = None,
) -> FlowEfficiency:
    """Flow efficiency of every completed item, over its cycle time (see :func:`cycle_time`).

    The active time is the total of the item's episodes in ``active`` states between the cycle's
    start and end; every other moment of the cycle is waiting (blocked, or done before a reopening
    when ``reopened="span"``). With ``calendar``, both the active time and the cycle time are
    working time, so an item worked on whenever the office was open is fully efficient.

    Raises:
        ValidationError: As :func:`cycle_time`, or an unknown active state.
    """
    episodes = resolve_source(source, now)
    scale = TimeScale.of(calendar, episodes.frame)
    chosen = passes(
        episodes,
        start=state_lut(start, path="start"),
        end=state_lut(end, path="end"),
        reopened=check_choice(reopened, REOPENED, path="reopened"),
    )
    is_active = state_lut(active, path="active")
    items = np.flatnonzero(chosen.counted)
    if not len(episodes):
        empty = np.empty(0, dtype=np.int64)
        return FlowEfficiency(episodes, items.astype(np.int32), empty, empty, scale)
    index = np.arange(len(episodes))
    # The cycle is the run of whole episodes from the start episode up to, not including, the one
    # that completes it; uncounted items get an empty window.
    low = np.where(chosen.counted, chosen.start, 0)[episodes.item]
    high = np.where(chosen.counted, chosen.end, 0)[episodes.item]
    inside = (index >= low) & (index < high) & in_states(episodes.state, is_active)
    counted = np.flatnonzero(inside)
    duration = np.zeros(len(episodes), dtype=np.int64)
    duration[counted] = scale.between(
        episodes.start[counted], episodes.ends(counted), episodes.item[counted]
    )
    spent = np.add.reduceat(duration, episodes.offsets[:-1])
    total = scale.between(
        episodes.start[chosen.start[items]], episodes.start[chosen.end[items]], items
    )
    return FlowEfficiency(
        episodes=episodes,
        item=items.astype(np.int32),
        active=spent[items].astype(np.int64),
        total=total.astype(np.int64),
        scale=scale,
    )
