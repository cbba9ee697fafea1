"""Spike policies evaluated: daily counts per group, control limits, and findings for spikes.

The day checked is the last whole local day before ``now`` (in the policy's timezone); its
baseline is the ``baseline_days`` days before it. Counts, per group (each value of the ``by``
attribute, as recorded at the event counted) and day:

- ``blocks``: events that enter the blocked state (the item was not blocked just before);
- ``blocked``: items in a blocked episode at the end of the day (the next local midnight);
- ``escalations``: escalations raised that day (a first raise, or a higher level; not a repeat),
  grouped by the item's attribute value as of ``now``.

Charts, with ``m`` the baseline's mean count and ``L`` the policy's sigma:

- c-chart: a spike when ``count > m + L * sqrt(m)``;
- EWMA: ``z`` starts at ``m`` and runs over the baseline days then the day checked,
  ``z <- w * count + (1 - w) * z``; a spike when ``z > m + L * sqrt(m * w / (2 - w) *
  (1 - (1 - w) ** (2 * (B + 1))))`` with ``B`` baseline days (Poisson variance ``m``).

A day with no count is no spike, whatever the limit. Days are numbered since 1970-01-01; a finding's
episode is the day checked, so each group fires at most once per day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.policy._context import BLOCKED, Context
from servicedelivery.policy._escalations import Escalations
from servicedelivery.policy._explain import iso
from servicedelivery.policy._findings import ACTIONS, FindingAction, FixedPart, Rows
from servicedelivery.policy._spike_policy import Chart, SpikeCount, SpikePolicy
from servicedelivery.policy._truth import carried

__all__ = ["DailyCounts", "daily_counts", "day_bounds", "spike_rows"]

_RAISE = np.int8(ACTIONS.index(FindingAction.RAISE))
_ACTIVE = np.int8(ACTIONS.index(FindingAction.ACTIVE))


def day_bounds(now: int, days: int, timezone: str) -> tuple[npt.NDArray[np.int64], int]:
    """The local midnights of the ``days`` whole days before ``now``, and one more.

    Returns:
        ``days + 1`` instants (ns since the epoch): day ``k`` runs from ``bounds[k]`` to
        ``bounds[k + 1]``; and the number (days since 1970-01-01) of the first day.
    """
    zone = ZoneInfo(timezone)
    today = dt.datetime.fromtimestamp(now // 1_000_000_000, tz=zone).date()
    first = today - dt.timedelta(days=days)
    bounds = np.array(
        [_midnight(first + dt.timedelta(days=k), zone) for k in range(days + 1)], dtype=np.int64
    )
    return bounds, (first - dt.date(1970, 1, 1)).days


def _midnight(day: dt.date, zone: ZoneInfo) -> int:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=zone)
    return int(start.timestamp()) * 1_000_000_000


def spike_rows(
    ctx: Context,
    policy: SpikePolicy,
    ledger: Escalations,
    codes: npt.NDArray[np.int64],
    path: str,
) -> list[Rows]:
    """The findings of one spike policy at ``ctx.now``."""
    from servicedelivery.policy._evaluate import scope_mask  # noqa: PLC0415 - cycle

    frame = ctx.frame
    if policy.by not in frame.attributes:
        known = ", ".join(frame.attributes) or "none"
        raise ValidationError.single(
            f"{path}.by", policy.by, f"an attribute of the frame (it has {known})"
        )
    baseline = policy.effective_baseline_days
    counts = daily_counts(
        ctx, policy, ledger, codes, scope_mask(ctx, policy.scope, f"{path}.scope")
    )
    bounds, first_day, groups, table = counts.bounds, counts.first_day, counts.groups, counts.table
    count_rows, count_groups, count_days = counts.rows, counts.group, counts.day
    mean = table[:, :baseline].mean(axis=1)
    sigma = policy.effective_sigma
    if policy.effective_chart is Chart.C:
        statistic = table[:, baseline].astype(np.float64)
        limit = mean + sigma * np.sqrt(mean)
    else:
        weight = policy.effective_weight
        statistic = mean.copy()
        for day in range(baseline + 1):  # a loop over days, each over every group at once
            statistic = weight * table[:, day] + (1 - weight) * statistic
        spread = mean * weight / (2 - weight) * (1 - (1 - weight) ** (2 * (baseline + 1)))
        limit = mean + sigma * np.sqrt(spread)
    spikes = np.flatnonzero((table[:, baseline] > 0) & (statistic > limit))
    day_number = first_day + baseline
    names = np.array([f"{policy.by}:{value}" for value in groups[spikes].tolist()], dtype=object)
    recorded = _recorded(ledger, policy.name, names, day_number)
    targets = np.array(
        [policy.to.render({policy.by: str(value)}) for value in groups[spikes].tolist()],
        dtype=object,
    )
    explanations = []
    evidences = []
    source = frame.position if frame.event_id is None else frame.event_id
    on_day = count_days == baseline
    for row, group in enumerate(spikes.tolist()):  # one per spike found, not per item
        rows = count_rows[on_day & (count_groups == group)]
        evidence = tuple(
            dict.fromkeys(
                (ledger.event_id[-row_ - 1] if row_ < 0 else source[row_]) for row_ in rows.tolist()
            )
        )
        evidence = tuple(value for value in evidence if value is not None)
        explanations.append(
            {
                "policy": policy.name,
                "action": ACTIONS[int(_ACTIVE if recorded[row] else _RAISE)].value,
                "level": 1,
                "target": str(targets[row]),
                "group": {policy.by: str(groups[group])},
                "count": policy.count.value,
                "day": str(np.datetime64(day_number, "D")),
                "day_start": iso(int(bounds[baseline])),
                "day_end": iso(int(bounds[baseline + 1])),
                "value": int(table[group, baseline]),
                "baseline": table[group, :baseline].tolist(),
                "mean": float(mean[group]),
                "chart": policy.effective_chart.value,
                "statistic": float(statistic[group]),
                "limit": float(limit[group]),
                **({"playbook": policy.playbook} if policy.playbook is not None else {}),
            }
        )
        evidences.append(plain_tuple(evidence))
    count = len(spikes)
    return [
        Rows(
            policy=policy.name,
            item=names,
            action=np.where(recorded, _ACTIVE, _RAISE).astype(np.int8),
            level=np.ones(count, dtype=np.int16),
            target=targets,
            holds=np.ones(count, dtype=np.bool_),
            since=np.full(count, bounds[baseline], dtype=np.int64),
            episode=np.full(count, day_number, dtype=np.int64),
            part=FixedPart(explanations, evidences),
            order=np.arange(count, dtype=np.int64),
            day=np.full(count, day_number).astype("M8[D]"),
        )
    ]


@attrs.frozen(eq=False)
class DailyCounts:
    """A spike policy's counts per group and day, and what was counted.

    Attributes:
        bounds: The local midnights: day ``k`` runs from ``bounds[k]`` to ``bounds[k + 1]``; the
            last day is the one checked.
        first_day: The number of day 0 (days since 1970-01-01).
        groups: The values of the ``by`` attribute (the frame's categories).
        table: ``int64[groups, days]`` counts.
        rows: Per count, its evidence: a frame row (``-1 - ledger row`` for an escalation).
        group: Per count, its group.
        day: Per count, its day.
    """

    bounds: npt.NDArray[np.int64]
    first_day: int
    groups: npt.NDArray[Any]
    table: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]
    group: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]


def daily_counts(
    ctx: Context,
    policy: SpikePolicy,
    ledger: Escalations,
    codes: npt.NDArray[np.int64],
    in_scope: npt.NDArray[np.bool_],
) -> DailyCounts:
    """Count what ``policy`` counts, per group, over its baseline days and the day checked."""
    baseline = policy.effective_baseline_days
    bounds, first_day = day_bounds(ctx.now, baseline + 1, policy.effective_timezone)
    groups = np.asarray(ctx.frame.attributes[policy.by].categories, dtype=object)
    rows, group, day = _events(ctx, policy, ledger, codes, in_scope, bounds)
    table = np.zeros((len(groups), baseline + 1), dtype=np.int64)
    np.add.at(table, (group, day), 1)
    return DailyCounts(bounds, first_day, groups, table, rows, group, day)


def plain_tuple(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Numpy scalars as Python values."""
    return tuple(value.item() if isinstance(value, np.generic) else value for value in values)


def _recorded(
    ledger: Escalations, policy: str, names: npt.NDArray[Any], day: int
) -> npt.NDArray[np.bool_]:
    mine = (ledger.policy == policy) & (ledger.episode == day) & ~ledger.cleared
    return np.isin(names.astype(str), ledger.item[mine].astype(str)) if len(names) else names == 0


def _events(  # noqa: PLR0917 - one private call
    ctx: Context,
    policy: SpikePolicy,
    ledger: Escalations,
    codes: npt.NDArray[np.int64],
    in_scope: npt.NDArray[np.bool_],
    bounds: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """What is counted: (evidence row, group code, day index) per count.

    Evidence rows are frame rows; an escalation's is ``-1 - its ledger row``.
    """
    frame = ctx.frame
    group_of_row = carried(frame.attributes[policy.by].codes, frame.offsets).astype(np.int64)
    item_of_row = np.repeat(np.arange(ctx.count), np.diff(frame.offsets))
    days = len(bounds) - 1
    if policy.count is SpikeCount.BLOCKS:
        blocked = frame.state == BLOCKED
        before = np.zeros(len(blocked), dtype=np.bool_)
        before[1:] = blocked[:-1]
        before[frame.offsets[:-1]] = False
        rows = np.flatnonzero(blocked & ~before & in_scope[item_of_row])
        day = np.searchsorted(bounds, frame.time[rows], side="right") - 1
        keep = (day >= 0) & (day < days) & (group_of_row[rows] >= 0)
        return rows[keep], group_of_row[rows[keep]], day[keep]
    if policy.count is SpikeCount.BLOCKED:
        ep = ctx.episodes
        episodes = np.flatnonzero((ep.state == BLOCKED) & in_scope[ep.item])
        first_row = ep.first_row[episodes]
        start = ep.start[episodes]
        end = ep.ends(episodes)
        # Day k counts the episode when its end of day, bounds[k + 1], lies in [start, end);
        # an episode still running at now has not ended.
        still = ep.last[episodes] & ctx.is_open[ep.item[episodes]]
        end = np.where(still, np.iinfo(np.int64).max, end)
        ends = bounds[1:]
        low = np.searchsorted(ends, start, side="left")
        high = np.searchsorted(ends, end, side="left")
        spans = np.maximum(high - low, 0)
        repeat = np.repeat(np.arange(len(episodes)), spans)
        offsets = np.cumsum(spans) - spans
        day = np.repeat(low, spans) + (np.arange(int(spans.sum())) - np.repeat(offsets, spans))
        rows = first_row[repeat]
        groups = group_of_row[rows]
        keep = groups >= 0
        return rows[keep], groups[keep], day[keep]
    # Escalations: the first event of each (policy, item, episode, level), raised in the day.
    found = (codes >= 0) & ~ledger.cleared
    found[found] &= in_scope[codes[found]]
    rows = np.flatnonzero(found)
    if len(rows):
        keys = np.stack(
            [
                np.unique(ledger.policy[rows].astype(str), return_inverse=True)[1].reshape(-1),
                codes[rows],
                ledger.episode[rows],
                ledger.level[rows].astype(np.int64),
            ]
        )
        _, first = np.unique(keys, axis=1, return_index=True)
        rows = rows[np.sort(first)]
    item_group = frame.item_attributes[policy.by].codes.astype(np.int64)
    day = np.searchsorted(bounds, ledger.at[rows], side="right") - 1
    groups = item_group[codes[rows]] if len(rows) else np.zeros(0, dtype=np.int64)
    keep = (day >= 0) & (day < days) & (groups >= 0)
    # The frame's attribute categories and the item attribute categories are the same labels.
    return -1 - rows[keep], _regroup(ctx, policy.by, groups[keep]), day[keep]


def _regroup(ctx: Context, name: str, codes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Item-attribute codes as codes of the row attribute's categories."""
    row_categories = np.asarray(ctx.frame.attributes[name].categories, dtype=object).astype(str)
    item_categories = np.asarray(ctx.frame.item_attributes[name].categories, dtype=object).astype(
        str
    )
    order = np.argsort(row_categories)
    where = order[np.searchsorted(row_categories, item_categories, sorter=order)]
    return where[codes] if len(codes) else codes
