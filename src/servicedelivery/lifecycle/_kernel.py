"""Replaying whole histories through a transition table, with numpy and no loop per event.

Two kernels, both pure functions of arrays:

- :func:`group_events` finds the order in which each item's events happen: by item, then by time,
  then by position (a stable order), without sorting when the input already is in that order.
- :func:`replay` walks every item's events through a table ``step[event, state]`` and returns the
  state before each event and each item's final state.

Why :func:`replay` is correct, and why it is fast
-------------------------------------------------

Each event is a function from states to states (its destination when the move is legal from that
state, else the same state: an illegal event changes nothing). An item's state after its ``k``-th
event is its start state run through its first ``k`` functions, in order. The events of one item
must be applied in order, but different items are independent. So the kernel loops over *depth*
(the ``r``-th event of every item at once), not over events: at depth ``r`` one vectorized gather
advances every item that has more than ``r`` events. With the events grouped by item and the items
taken longest first, the items still going at depth ``r`` are a prefix, and the ``r``-th event of
each is at its first event plus ``r``. Every event is read once: the work is that of a few passes
over the history, where a parallel prefix scan (Hillis-Steele over the monoid of these functions)
makes ``log2(longest history)`` full passes.

A loop over depth would turn into a loop per event for one very long history, so histories longer
than ``_BLOCK`` events are cut into blocks of ``C`` events (``C`` about the square root of the
longest history, at least ``_BLOCK``), and blocks play the part of items:

1. For every block except each item's last, its *function* is computed for every possible start
   state at once, by the same depth loop with a vector of states per block (``C`` steps).
2. The start state of each item's ``k``-th block is its ``(k-1)``-th block's function applied to
   that block's start state (a loop over block index: at most about ``C`` steps).
3. The depth loop then runs over all blocks from their now known start states.

Function composition is associative, so cutting a history into blocks and chaining the blocks'
functions gives the same states as walking it event by event. The loops run ``O(C)`` steps, about
``sqrt(longest history)``, and the work stays a few passes over the events (times the number of
states in step 1).
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["Grouping", "group_events", "replay"]

_BLOCK = 1024
"""Histories up to this long are replayed whole; longer ones are cut into blocks."""

_CHUNK = 1 << 20
"""Element-wise passes over whole histories run in chunks of this many events, in place, so that
they need no temporary array as large as the history."""


@attrs.frozen
class Grouping:
    """The events in replay order: grouped by item, each item's events in time order.

    Attributes:
        order: Input positions in replay order; ``None`` when that is the input order.
        lengths: How many events each group (item) has, in group order.
        items: Each group's item code, in group order.
        payload: The ``payload`` given to :func:`group_events`, in replay order.
        ascending: The groups in ascending item order (indexes into the group order); ``None``
            when the groups already are in that order.
        longest_first: Whether the groups are in order of length, longest first.
    """

    order: npt.NDArray[np.int64] | None
    lengths: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    payload: npt.NDArray[np.integer]
    ascending: npt.NDArray[np.int64] | None = None
    longest_first: bool = False


def _chunks(start: int, stop: int) -> list[tuple[int, int]]:
    return [(low, min(low + _CHUNK, stop)) for low in range(start, stop, _CHUNK)]


def _bits(value: int) -> int:
    return max(1, value.bit_length())


def _stable_order_by(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Positions of ``keys`` sorted stably, ties in position order."""
    n = len(keys)
    bits = _bits(n - 1)
    low, high = (int(keys.min()), int(keys.max())) if n else (0, 0)
    if (high - low) >> (63 - bits) == 0:
        # Pack (key, position) into one int64 and sort the values: the positions make every packed
        # key distinct, so any sort is stable, and numpy sorts plain int64 values several times
        # faster than it argsorts them.
        packed = np.subtract(keys, low, dtype=np.int64)
        packed <<= bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort()
        packed &= (1 << bits) - 1
        return packed
    return np.argsort(keys, kind="stable").astype(np.int64, copy=False)


def group_events(
    items: npt.NDArray[np.int64],
    payload: npt.NDArray[np.integer],
    *,
    times: npt.NDArray[np.int64] | None = None,
) -> Grouping:
    """Group events by item, each item's events by time, ties in input order.

    Args:
        items: Item code of each event.
        payload: Non-negative integers carried along into replay order (the event kinds).
        times: Time of each event (any integer unit); without it, input order is event order.
    """
    n = len(items)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Grouping(order=None, lengths=empty, items=empty, payload=payload)
    if not bool(np.any(items[1:] < items[:-1])):
        starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]])
        lengths = np.diff(np.append(starts, n))
        grouping = Grouping(order=None, lengths=lengths, items=items[starts], payload=payload)
    else:
        low, high = int(items.min()), int(items.max())
        if high - low < n:
            grouping = _group_dense(items, payload, low, high)
        else:
            grouping = _group_sparse(items, payload, low, high)
    # Grouping keeps input order within each item; that is time order unless times say otherwise.
    # Times already ascending in input order (as a log records them) need no second look.
    if times is not None and bool(np.any(times[1:] < times[:-1])):
        grouping = _sort_by_time(grouping, times)
    return grouping


def _sort_by_time(grouping: Grouping, times: npt.NDArray[np.int64]) -> Grouping:
    """The grouping with each item's events in time order, equal times in input order."""
    n = len(times)
    order = grouping.order
    when = times if order is None else times[order]
    lengths = grouping.lengths
    segment = np.repeat(np.arange(len(lengths)), lengths)
    late = np.flatnonzero((segment[1:] == segment[:-1]) & (when[1:] < when[:-1]))
    if len(late) == 0:
        return grouping
    # Only the items whose events are out of time order are sorted again, by (item, time); lexsort
    # is stable, so equal times keep their input order.
    unsorted = np.zeros(len(lengths), dtype=bool)
    unsorted[segment[late]] = True
    chosen = np.flatnonzero(unsorted[segment])
    reorder = chosen[np.lexsort((when[chosen], segment[chosen]))]
    order = np.arange(n, dtype=np.int64) if order is None else order.copy()
    payload = grouping.payload.copy()
    order[chosen] = order[reorder]
    payload[chosen] = payload[reorder]
    return attrs.evolve(grouping, order=order, payload=payload)


def _group_dense(
    items: npt.NDArray[np.int64], payload: npt.NDArray[np.integer], low: int, high: int
) -> Grouping:
    """Group items whose codes span less than the number of events, longest history first.

    Counting the events per code needs no sort, so the groups can be put in the order the replay
    wants (longest first, ties by code) before the one sort of the events.
    """
    # Codes from zero (the usual case) are counted as they are, without a shifted copy.
    base = 0 if low >= 0 and high < len(items) else low
    counts = np.bincount(items if base == 0 else items - base)
    present = np.flatnonzero(counts)
    lengths = counts[present]
    by_length = _order_longest_first(lengths)
    grouped_codes = present[by_length]
    rank = np.zeros(len(counts), dtype=np.int32)
    rank[grouped_codes] = np.arange(len(present), dtype=np.int32)
    order, in_order = _sort_packed(
        items, payload, rank=rank, low=base, key_bits=_bits(len(present))
    )
    return Grouping(
        order=order,
        lengths=lengths[by_length],
        items=grouped_codes + base,
        payload=in_order,
        ascending=rank[present].astype(np.int64),
        longest_first=True,
    )


def _order_longest_first(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Positions of ``lengths`` from the longest to the shortest, ties in position order."""
    shortfall = int(lengths.max()) - lengths
    if int(shortfall.max()) <= np.iinfo(np.int16).max:
        # numpy's stable sort of 16-bit integers is a radix sort: linear, and fast.
        return np.argsort(shortfall.astype(np.int16), kind="stable").astype(np.int64)
    return _stable_order_by(shortfall)


def _group_sparse(
    items: npt.NDArray[np.int64], payload: npt.NDArray[np.integer], low: int, high: int
) -> Grouping:
    """Group items whose codes are spread wide, in ascending code order."""
    n = len(items)
    if _bits(high - low) + _bits(n - 1) > 63:
        order = np.argsort(items, kind="stable").astype(np.int64, copy=False)
        in_order = payload[order]
    else:
        order, in_order = _sort_packed(
            items, payload, rank=None, low=low, key_bits=_bits(high - low)
        )
    grouped = items[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    return Grouping(
        order=order,
        lengths=np.diff(np.append(starts, n)),
        items=grouped[starts],
        payload=in_order,
    )


def _sort_packed(
    items: npt.NDArray[np.int64],
    payload: npt.NDArray[np.integer],
    *,
    rank: npt.NDArray[np.int32] | None,
    low: int,
    key_bits: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.integer]]:
    """The stable order of the events by key, and the payload in that order.

    The key is ``rank[item - low]``, or ``item - low`` without a rank. The key, the position and
    (when there is room) the payload are packed into one int64 and the values sorted. The
    positions make the packed values distinct, so any sort is stable, and numpy sorts plain int64
    values several times faster than it argsorts them; a payload carried in the low bits saves a
    gather in random order.
    """
    n = len(items)
    position_bits = _bits(n - 1)
    payload_bits = _bits(int(payload.max()))
    carried = key_bits + position_bits + payload_bits <= 63
    low_bits = position_bits + payload_bits if carried else position_bits
    packed = np.empty(n, dtype=np.int64)
    for start, stop in _chunks(0, n):
        key = items[start:stop] - low if low else items[start:stop]
        key = key.astype(np.int64) if rank is None else rank[key].astype(np.int64)
        key <<= low_bits
        position = np.arange(start, stop, dtype=np.int64)
        if carried:
            position <<= payload_bits
            position |= payload[start:stop]
        np.bitwise_or(key, position, out=packed[start:stop])
    packed.sort()
    if carried:
        in_order = np.empty_like(payload)
        for start, stop in _chunks(0, n):
            in_order[start:stop] = packed[start:stop] & ((1 << payload_bits) - 1)
        packed >>= payload_bits
    packed &= (1 << position_bits) - 1
    if not carried:
        in_order = payload[packed]
    return packed, in_order


def replay(
    step: npt.NDArray[np.int8],
    grouping: Grouping,
    initial: npt.NDArray[np.int8],
    *,
    n_states: int,
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Walk every item's events through a flat transition table.

    Args:
        step: The table, flat: ``step[e + s]`` is the state after an event ``e`` in state ``s``
            (each event's value is its row's offset in the table).
        grouping: The replay order, from :func:`group_events`, whose payload is each event's
            row offset in ``step``.
        initial: Each group's start state, in group order.
        n_states: How many states there are.

    Returns:
        The state before each event (aligned with the input) and each group's final state (in
        group order).
    """
    n = len(grouping.payload)
    lengths = grouping.lengths
    if n == 0:
        return np.zeros(0, dtype=np.int8), initial.astype(np.int8, copy=True)
    in_order = grouping.payload
    longest = int(lengths.max())
    width = longest if longest <= _BLOCK else max(_BLOCK, math.isqrt(longest - 1) + 1)
    blocks = _Blocks(lengths, width)
    starts = blocks.start_states(initial, step, in_order, n_states=n_states)
    # Longest block first, ties by block number: the blocks still going at depth r are a prefix,
    # and within it each block's r-th event is at its start plus r. Groups that come longest first
    # make these accesses ascending, which the memory system rewards.
    by_length: npt.NDArray[np.int64] | None = None
    first_events, state = blocks.first_events, starts
    if not (grouping.longest_first and blocks.n_blocks == len(lengths)):
        by_length = _order_longest_first(blocks.lengths)
        first_events, state = first_events[by_length], starts[by_length]
    going = blocks.n_blocks - np.cumsum(np.bincount(blocks.lengths, minlength=width + 1))
    before = np.empty(n, dtype=np.int8)
    # Buffers reused at every depth: the loop allocates nothing as large as the items.
    at = np.empty(len(first_events), dtype=np.intp)
    index = np.empty(len(first_events), dtype=np.intp)
    for depth in range(width):
        count = int(going[depth])
        here = np.add(first_events[:count], depth, out=at[:count])
        current = state[:count]
        before[here] = current
        looked_up = np.add(in_order[here], current, out=index[:count])
        np.take(step, looked_up, out=current)
    ends = state
    if by_length is not None:
        ends = np.empty_like(state)
        ends[by_length] = state
    if grouping.order is not None:
        # Back to input order: one scatter.
        unsorted = np.empty_like(before)
        unsorted[grouping.order] = before
        before = unsorted
    return before, ends[blocks.last_blocks]


class _Blocks:
    """Each item's history cut into blocks of at most ``width`` events, in replay order.

    Attributes:
        first_events: Where each block starts, in replay order.
        lengths: How many events each block has.
        last_blocks: Each item's last block.
    """

    def __init__(self, item_lengths: npt.NDArray[np.int64], width: int) -> None:
        n_items = len(item_lengths)
        item_starts = np.cumsum(item_lengths) - item_lengths
        per_item = (item_lengths + width - 1) // width
        self.width = width
        self.per_item = per_item
        self.first_blocks = np.cumsum(per_item) - per_item
        self.last_blocks = self.first_blocks + per_item - 1
        self.n_blocks = int(per_item.sum())
        if self.n_blocks == n_items:
            self.first_events = item_starts
            self.lengths = item_lengths
            return
        self.block_item = np.repeat(np.arange(n_items, dtype=np.int64), per_item)
        self.index_in_item = np.arange(self.n_blocks, dtype=np.int64) - np.repeat(
            self.first_blocks, per_item
        )
        self.first_events = item_starts[self.block_item] + self.index_in_item * width
        self.lengths = np.minimum(width, item_lengths[self.block_item] - self.index_in_item * width)

    def start_states(
        self,
        initial: npt.NDArray[np.int8],
        step: npt.NDArray[np.int8],
        events: npt.NDArray[np.integer],
        *,
        n_states: int,
    ) -> npt.NDArray[np.int8]:
        """The state each block starts in: its item's start state, or its previous block's end."""
        starts = np.empty(self.n_blocks, dtype=np.int8)
        starts[self.first_blocks] = initial
        if self.n_blocks == len(self.per_item):
            return starts
        # 1. Every block but each item's last is full: its function, for every start state at once.
        inner = np.flatnonzero(self.index_in_item < self.per_item[self.block_item] - 1)
        functions = np.tile(np.arange(n_states, dtype=np.int8), (len(inner), 1))
        first_events = self.first_events[inner]
        for depth in range(self.width):
            functions = step[events[first_events + depth][:, None] + functions]
        row = np.full(self.n_blocks, -1, dtype=np.int64)
        row[inner] = np.arange(len(inner), dtype=np.int64)
        # 2. Chain the functions: block k of an item starts where block k-1 ends.
        chained = np.flatnonzero(self.per_item > 1)
        for index in range(1, int(self.per_item.max())):
            chained = chained[self.per_item[chained] > index]
            block = self.first_blocks[chained] + index
            starts[block] = functions[row[block - 1], starts[block - 1]]
        return starts
