"""Spike policies: daily counts per group against a slow reference, and hand-computed charts."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.eventlog import InMemoryEventLog
from servicedelivery.metrics import EventFrame
from servicedelivery.model import NS_PER_HOUR, STATES
from servicedelivery.policy import (
    Chart,
    Escalations,
    PolicySet,
    SpikeCount,
    SpikePolicy,
    Target,
    escalations_from_log,
    evaluate,
    record_escalations,
)
from servicedelivery.policy._context import Context
from servicedelivery.policy._escalations import ItemIndex
from servicedelivery.policy._spike import daily_counts
from tests.policy.strategies import portfolios

H = NS_PER_HOUR
DAY = 24 * H
BLOCKED = STATES.index("blocked")
START = 1_717_200_000 * 10**9  # 2024-06-01T00:00:00Z


def _reference(frame: EventFrame, now: int, policy: SpikePolicy) -> dict[tuple[str, int], int]:
    """Counts per (group, day index) in plain Python, item by item and row by row."""
    zone = ZoneInfo(policy.effective_timezone)
    days = policy.effective_baseline_days + 1
    today = dt.datetime.fromtimestamp(now // 10**9, tz=zone).date()
    first = today - dt.timedelta(days=days)

    def day_of(ns: int) -> int:
        return (dt.datetime.fromtimestamp(ns / 1e9, tz=zone).date() - first).days

    ends = [
        int(dt.datetime.combine(first + dt.timedelta(days=k + 1), dt.time(), zone).timestamp())
        * 10**9
        for k in range(days)
    ]
    counts: dict[tuple[str, int], int] = {}
    providers = frame.attributes["provider"].labels().tolist()
    for item in range(frame.item_count):
        rows = [r for r in range(int(frame.offsets[item]), int(frame.offsets[item + 1]))
                if frame.time[r] <= now]  # fmt: skip
        group: list[Any] = []
        last = None
        for r in rows:
            last = providers[r] if providers[r] is not None else last
            group.append(last)
        key = [(int(frame.state[r]), int(frame.owner[r]), int(frame.reason[r])) for r in rows]
        begins = [i for i in range(len(rows)) if i == 0 or key[i] != key[i - 1]]
        for i, r in enumerate(rows):
            entering = i == 0 or frame.state[rows[i - 1]] != BLOCKED
            if policy.count is SpikeCount.BLOCKS and frame.state[r] == BLOCKED and entering:
                d = day_of(int(frame.time[r]))
                if group[i] is not None and 0 <= d < days:
                    counts[(group[i], d)] = counts.get((group[i], d), 0) + 1
        if policy.count is SpikeCount.BLOCKED:
            for d, end in enumerate(ends):
                started = [b for b in begins if frame.time[rows[b]] <= end]
                if not started:
                    continue
                b = started[-1]
                if frame.state[rows[b]] == BLOCKED and group[b] is not None:
                    counts[(group[b], d)] = counts.get((group[b], d), 0) + 1
    return counts


@given(portfolios(), st.sampled_from([SpikeCount.BLOCKS, SpikeCount.BLOCKED]),
       st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]), st.integers(2, 6))  # fmt: skip
def test_daily_counts_match_a_slow_reference(
    portfolio: Any, count: SpikeCount, timezone: str, baseline: int
) -> None:
    frame, now = portfolio
    policy = SpikePolicy(name="s", count=count, by="provider", to=Target.queue("ops"),
                         baseline_days=baseline, timezone=timezone)  # fmt: skip
    ctx = Context(frame, now=now, calendars=None, targets=None)
    counts = daily_counts(ctx, policy, Escalations.empty(), np.zeros(0, np.int64),
                          np.ones(ctx.count, dtype=bool))  # fmt: skip
    got = {
        (str(counts.groups[g]), d): int(counts.table[g, d])
        for g, d in zip(*np.nonzero(counts.table), strict=True)
    }
    assert got == _reference(ctx.frame, now, policy)


def _blocks(per_day: dict[str, list[int]]) -> EventFrame:
    """For each provider, that many items blocked on each day from START (at 10:00 UTC)."""
    columns: dict[str, list[Any]] = {"item": [], "time": [], "state": [], "reason": [],
                                      "provider": []}  # fmt: skip
    for provider, counts in per_day.items():
        for day, number in enumerate(counts):
            for index in range(number):
                item = f"{provider}-{day}-{index}"
                for hours, state, reason in ((9, "in_progress", None),
                                             (10, "blocked", "awaiting_provider"),
                                             (12, "in_progress", None)):  # fmt: skip
                    columns["item"].append(item)
                    columns["time"].append(START + day * DAY + hours * H)
                    columns["state"].append(state)
                    columns["reason"].append(reason)
                    columns["provider"].append(provider)
    return EventFrame.from_columns(columns, reason="reason", attributes=["provider"])


FRAME = _blocks({"acme": [1, 1, 1, 1, 1, 1, 1, 6], "beta": [1, 1, 1, 1, 1, 1, 1, 1]})
NOW = START + 8 * DAY + 6 * H  # the 9th day, so the 8th (index 7) is the day checked


def test_a_c_chart_finds_the_providers_spike_once_per_day() -> None:
    policy = SpikePolicy(name="block_spike", count=SpikeCount.BLOCKS, by="provider",
                         to=Target.queue("vendor_manager_{provider}"), baseline_days=7)  # fmt: skip
    found = evaluate(policy, FRAME, now=NOW)
    # acme: baseline mean 1, limit 1 + 3 * sqrt(1) = 4, and 6 blocks on the day: a spike.
    assert found.item.tolist() == ["provider:acme"]
    assert found.actions.tolist() == ["raise"]
    assert found.target.tolist() == ["queue:vendor_manager_acme"]
    assert found.day.astype(str).tolist() == ["2024-06-08"]
    explained = found.explain(0)
    assert (explained["value"], explained["mean"], explained["limit"]) == (6, 1.0, 4.0)
    assert len(found.evidence(0)) == 6  # the six blocking events
    log = InMemoryEventLog()
    record_escalations(log, found)
    again = evaluate(PolicySet([policy]), FRAME, now=NOW, escalations=escalations_from_log(log))
    assert again.actions.tolist() == ["active"]
    assert len(again.new()) == 0


def test_an_ewma_chart_by_hand() -> None:
    policy = SpikePolicy(name="block_spike", count=SpikeCount.BLOCKS, by="provider",
                         to=Target.queue("ops"), baseline_days=7, chart=Chart.EWMA)  # fmt: skip
    found = evaluate(policy, FRAME, now=NOW)
    # z runs 1, 1, ... over the baseline, then 0.2 * 6 + 0.8 * 1 = 2.0 on the day; the limit is
    # 1 + 3 * sqrt(1 * 0.2 / 1.8 * (1 - 0.8 ** 16)) = 1.98583...
    assert found.item.tolist() == ["provider:acme"]
    explained = found.explain(0)
    assert explained["statistic"] == 2.0
    assert abs(explained["limit"] - (1 + 3 * np.sqrt(0.2 / 1.8 * (1 - 0.8**16)))) < 1e-12
    calmer = SpikePolicy(name="block_spike", count=SpikeCount.BLOCKS, by="provider",
                         to=Target.queue("ops"), baseline_days=7, chart=Chart.EWMA, sigma=3.1)  # fmt: skip
    assert len(evaluate(calmer, FRAME, now=NOW)) == 0


def test_escalations_are_counted_once_per_level_not_per_repeat() -> None:
    items = FRAME.items.tolist()
    acme = [item for item in items if item.startswith("acme-7")]
    day = START + 7 * DAY + 11 * H
    records = [
        {"policy": "p", "item": item, "episode": 1, "level": level, "at": day + minute}
        for minute, (item, level) in enumerate(
            [(acme[0], 1), (acme[0], 1), (acme[0], 2), (acme[1], 1), (acme[2], 1)]
        )
    ]
    records.append({"policy": "p", "item": acme[3], "episode": 1, "cleared": True, "at": day})
    ledger = Escalations.from_records(records)
    policy = SpikePolicy(name="esc_spike", count=SpikeCount.ESCALATIONS, by="provider",
                         to=Target.queue("ops"), baseline_days=7)  # fmt: skip
    ctx = Context(FRAME, now=NOW, calendars=None, targets=None)
    codes = ItemIndex(ctx.frame.items).codes(ledger.item)
    counts = daily_counts(ctx, policy, ledger, codes, np.ones(ctx.count, dtype=bool))
    acme_row = counts.groups.tolist().index("acme")
    # Four raises: two levels of one item, one each of two others; the repeat and the clearing
    # are not counted.
    assert counts.table[acme_row].tolist() == [0] * 7 + [4]
    found = evaluate(policy, FRAME, now=NOW, escalations=ledger)
    assert found.item.tolist() == ["provider:acme"]
