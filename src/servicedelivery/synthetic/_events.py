"""A seeded synthetic delivery log as numpy columns, built without a Python loop per event.

Each milestone follows the usual path of delivery work: planned, started, blocked and unblocked a few
times (sometimes moving from one blocker to another), done, and now and then reopened and done again;
a few are cancelled. Blocks carry a reason that fits the step and the reason's owner (sometimes
another owner, as when a person overrides it). About 15% of milestones are still open at ``now``, cut
at a random point of their history; the others finished within the three years before ``now``. The
rows of all milestones are interleaved in time order, like a real log.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pendulum

from servicedelivery.metrics import Categorical
from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    NS_PER_SECOND,
    OWNERS,
    STATES,
    MilestoneState,
    to_epoch_ns,
)
from servicedelivery.synthetic._portfolio import _STEP_REASONS, PROVIDERS, REGIONS, STEPS, _weights

__all__ = ["synthetic_event_columns"]

_DAY = 86_400
_HORIZON_DAYS = 3 * 365
# Poisson rates tuned so that, open milestones included, a milestone has about 5.5 events and a
# quarter of all events are blocks.
_BLOCKS_PER_MILESTONE = 1.34
_SWITCHES_PER_BLOCK = 0.1
_REOPENED = 0.05
_CANCELLED = 0.02
_OPEN = 0.15
_OVERRIDDEN_OWNER = 0.05
_TIES = 0.01
# Mean days until the next event, by the state the milestone is in.
_MEAN_GAP_DAYS = {
    MilestoneState.PLANNED: 4.0,
    MilestoneState.IN_PROGRESS: 3.0,
    MilestoneState.BLOCKED: 5.0,
    MilestoneState.DONE: 6.0,
    MilestoneState.CANCELLED: 6.0,
}

# Event kinds, in the order they can occur in a milestone's history.
_PLANNED, _START, _BLOCK, _SWITCH, _UNBLOCK, _DONE, _REOPEN = range(7)
_STATE_OF_KIND = np.array(
    [
        STATES.index(MilestoneState.PLANNED),
        STATES.index(MilestoneState.IN_PROGRESS),
        STATES.index(MilestoneState.BLOCKED),
        STATES.index(MilestoneState.BLOCKED),
        STATES.index(MilestoneState.IN_PROGRESS),
        STATES.index(MilestoneState.DONE),
        STATES.index(MilestoneState.IN_PROGRESS),
    ],
    dtype=np.int8,
)


def synthetic_event_columns(
    *,
    events: int = 1_000_000,
    seed: int = 7,
    now: pendulum.DateTime | None = None,
) -> dict[str, Any]:
    """Build a seeded synthetic delivery log of exactly ``events`` rows, as columns.

    Args:
        events: How many rows.
        seed: The seed; the same seed and size always give the same log.
        now: The instant the log is seen at (default 2026-01-05 09:00 UTC).

    Returns:
        Columns for :meth:`servicedelivery.metrics.EventFrame.from_columns`: ``item`` (a
        :class:`~servicedelivery.metrics.Categorical` of milestone numbers), ``time`` (``int64`` ns),
        ``state`` (``int8`` codes), ``owner`` (``int8``), ``reason`` (``int16`` codes of the default
        taxonomy), and categorical ``provider``, ``region`` and ``step``; plus ``now`` (``int``
        ns), the instant they are seen at.
    """
    rng = np.random.default_rng(seed)
    at = to_epoch_ns(now or pendulum.datetime(2026, 1, 5, 9, tz="UTC")) // NS_PER_SECOND
    # Draw more milestones than needed, then keep the first ones up to exactly ``events`` rows.
    milestones = max(1, int(events / 4.5) + 16)
    blocks = rng.poisson(_BLOCKS_PER_MILESTONE, milestones)
    reopened = rng.random(milestones) < _REOPENED
    cancelled = (rng.random(milestones) < _CANCELLED) & ~reopened
    switches = rng.poisson(_SWITCHES_PER_BLOCK, int(blocks.sum()))
    group_sizes = 2 + switches
    # Events in each milestone's block groups: differences of a running total over the groups.
    group_offsets = np.concatenate([[0], np.cumsum(blocks)])
    running_size = np.concatenate([[0], np.cumsum(group_sizes)])
    middle = running_size[group_offsets[1:]] - running_size[group_offsets[:-1]]
    lengths = 3 + middle + 2 * reopened
    is_open = rng.random(milestones) < _OPEN
    # An open milestone is cut somewhere before its completion: it keeps 1 to length - 1 events.
    kept = np.where(is_open, 1 + (rng.random(milestones) * (lengths - 1)).astype(np.int64), lengths)
    total = np.cumsum(kept)
    used = int(np.searchsorted(total, events)) + 1
    if used > milestones:  # far too few milestones drawn: impossible with the margin above
        raise AssertionError("synthetic_event_columns drew too few milestones")
    kept[used - 1] -= total[used - 1] - events

    kind = _kinds(lengths, middle, reopened, group_sizes)
    item = np.repeat(np.arange(milestones, dtype=np.int32), lengths)
    start_of = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(len(kind)) - np.repeat(start_of, lengths)
    state = _STATE_OF_KIND[kind]
    last = np.cumsum(lengths) - 1
    state[last[cancelled]] = STATES.index(MilestoneState.CANCELLED)

    steps = rng.integers(0, len(STEPS), milestones)
    reason, owner = _blocks(kind, item, steps, rng)
    seconds = _times(
        state=state,
        position=position,
        lengths=lengths,
        kept=kept,
        is_open=is_open,
        now=at,
        rng=rng,
    )

    keep = (position < np.repeat(kept, lengths)) & (item < used)
    providers = rng.choice(len(PROVIDERS), milestones, p=_weights(len(PROVIDERS), rng))
    regions = rng.choice(len(REGIONS), milestones, p=_weights(len(REGIONS), rng))
    item, state, owner, reason, seconds = (
        array[keep] for array in (item, state, owner, reason, seconds)
    )
    # Interleave the milestones' rows in time order, stably (a milestone's ties keep their order):
    # seconds and row packed into one integer sort many times faster than a stable argsort.
    count = len(seconds)
    origin = int(seconds.min()) if count else 0
    order = np.sort((seconds - origin) * count + np.arange(count)) % count
    item = item[order]
    return {
        "item": Categorical(item, np.arange(used, dtype=np.int64)),
        "time": seconds[order] * NS_PER_SECOND,
        "state": state[order],
        "owner": owner[order],
        "reason": reason[order],
        "provider": Categorical(providers[item].astype(np.int32), np.array(PROVIDERS, object)),
        "region": Categorical(regions[item].astype(np.int32), np.array(list(REGIONS), object)),
        "step": Categorical(steps[item].astype(np.int32), np.array(STEPS, object)),
        "now": int(at * NS_PER_SECOND),
    }


def _kinds(
    lengths: npt.NDArray[np.int64],
    middle: npt.NDArray[np.int64],
    reopened: npt.NDArray[np.bool_],
    group_sizes: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """The kind of every event: planned, start, the block groups, done, then reopen and done."""
    item = np.repeat(np.arange(len(lengths)), lengths)
    start_of = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(int(lengths.sum())) - np.repeat(start_of, lengths)
    inner = position - 2
    kind = np.full(len(position), _DONE, dtype=np.int64)
    kind[position == 0] = _PLANNED
    kind[position == 1] = _START
    kind[reopened[item] & (inner == middle[item] + 1)] = _REOPEN
    # Block groups, all of them in milestone order: block, its switches, unblock.
    group_start = np.concatenate([[0], np.cumsum(group_sizes)[:-1]])
    in_group = np.arange(int(group_sizes.sum())) - np.repeat(group_start, group_sizes)
    group_kind = np.where(
        in_group == 0,
        _BLOCK,
        np.where(in_group == np.repeat(group_sizes, group_sizes) - 1, _UNBLOCK, _SWITCH),
    )
    # Middle events of each milestone appear in the same order as the groups, so one boolean
    # assignment places every group event at its slot.
    kind[(inner >= 0) & (inner < middle[item])] = group_kind
    return kind


def _blocks(
    kind: npt.NDArray[np.int64],
    item: npt.NDArray[np.int32],
    steps: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int8]]:
    """Reason and owner codes of every event: a reason fitting the step for blocks, else -1."""
    blocked = (kind == _BLOCK) | (kind == _SWITCH)
    reason = np.full(len(kind), -1, dtype=np.int16)
    codes = DEFAULT_TAXONOMY.codes
    step_of = steps[item]
    for step_code, step in enumerate(STEPS):  # seven steps
        rows = np.flatnonzero(blocked & (step_of == step_code))
        choices = _STEP_REASONS[step]
        picked = rng.choice(len(choices), len(rows), p=[weight for _, weight in choices])
        lookup = np.array([codes.index(code.value) for code, _ in choices], dtype=np.int16)
        reason[rows] = lookup[picked]
    default_owner = np.array(
        [OWNERS.index(r.owner) for r in DEFAULT_TAXONOMY.reasons] + [-1], dtype=np.int8
    )
    owner = default_owner[reason]
    overridden = blocked & (rng.random(len(kind)) < _OVERRIDDEN_OWNER)
    owner[overridden] = rng.integers(0, len(OWNERS), int(overridden.sum()))
    return reason, owner


def _times(
    *,
    state: npt.NDArray[np.int8],
    position: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    kept: npt.NDArray[np.int64],
    is_open: npt.NDArray[np.bool_],
    now: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.int64]:
    """Seconds since the epoch of every event.

    Gaps between events depend on the state the milestone was in; a few are zero, so that some
    events of one milestone share an instant. Finished milestones end at a random point of the three
    years before ``now``; an open one is placed so that ``now`` falls between its last kept event
    and the next, which it has not reached yet.
    """
    mean = np.array([_MEAN_GAP_DAYS[s] * _DAY for s in STATES])
    previous = np.concatenate([[0], state[:-1]])
    gaps = rng.exponential(mean[previous]).astype(np.int64) + 1
    gaps[rng.random(len(gaps)) < _TIES] = 0
    gaps[position == 0] = 0
    # Elapsed seconds since the milestone's first event: a running total restarted per milestone.
    # Seconds keep the running total far from overflowing int64.
    running = np.cumsum(gaps)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    elapsed = running - np.repeat(running[first], lengths)
    last = first + lengths - 1
    span = elapsed[last]
    # Open: ``now`` lies a random part of the way into the gap after the last kept event.
    cut = first + np.maximum(kept, 1) - 1
    following = np.where(kept < lengths, gaps[np.minimum(cut + 1, len(gaps) - 1)], 0)
    open_start = now - elapsed[cut] - (rng.random(len(lengths)) * following).astype(np.int64) - 1
    closed_start = now - span - (rng.random(len(lengths)) * _HORIZON_DAYS * _DAY).astype(np.int64)
    begin = np.where(is_open, open_start, closed_start)
    seconds: npt.NDArray[np.int64] = np.repeat(begin, lengths) + elapsed
    return seconds
