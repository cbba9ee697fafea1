"""Policies: 10 over every item at once vs a per-item loop; one item's check; a backtest vs a loop."""

from __future__ import annotations

import time

import numpy as np

from benchmarks._harness import Result, best_of, peak_bytes
from benchmarks.bench_sla import EVENTS_PER_ITEM, INSTALL, SEED, regional_calendars
from servicedelivery.metrics import EventFrame
from servicedelivery.model import NS_PER_DAY, NS_PER_HOUR
from servicedelivery.policy import (
    Escalations,
    Findings,
    ItemHistory,
    PolicySet,
    backtest,
    evaluate,
    evaluate_item,
)
from servicedelivery.sla import sla_clocks
from servicedelivery.synthetic import synthetic_event_columns

POLICIES = PolicySet.from_data(
    {
        "policies": [
            {
                "name": "provider_block",
                "when": {
                    "all_of": [
                        {"field": "owner", "eq": "provider"},
                        {"measure": "blocked_for", "gt": "5 business days"},
                    ]
                },
                "action": "escalate",
                "levels": [
                    {"to": {"queue": "am_{provider}"}},
                    {"to": {"queue": "director_{provider}"}, "after": "5 business days"},
                ],
                "overrides": [
                    {
                        "scope": {"region": "apac"},
                        "when": {
                            "all_of": [
                                {"field": "owner", "eq": "provider"},
                                {"measure": "blocked_for", "gt": "3 business days"},
                            ]
                        },
                    }
                ],
            },
            {
                "name": "customer_block",
                "when": {
                    "all_of": [
                        {"field": "owner", "eq": "customer"},
                        {"measure": "blocked_for", "gt": "3d"},
                    ]
                },
                "action": "route",
                "to": {"queue": "customer_success_{region}"},
                "hold": "4h",
                "clear_after": "1d",
            },
            {
                "name": "stale_in_progress",
                "when": {
                    "all_of": [
                        {"field": "state", "eq": "in_progress"},
                        {"measure": "time_in_state", "gt": {"working": "40h"}},
                    ]
                },
                "action": "escalate",
                "levels": [{"to": {"owner": "noc"}}, {"to": {"queue": "noc_leads"}, "after": "2d"}],
                "repeat": "1d",
            },
            {
                "name": "old_work",
                "when": {"measure": "age", "gt": "30d"},
                "action": "tag",
                "to": {"queue": "ageing"},
            },
            {
                "name": "blocked_a_lot",
                "when": {"measure": "blocked_total", "ge": "10d"},
                "action": "tag",
                "to": {"queue": "chronic_blockers"},
            },
            {
                "name": "install_sla_at_risk",
                "when": {"measure": "sla_fraction_used", "sla": "install", "ge": 0.75},
                "action": "tag",
                "to": {"queue": "sla_at_risk"},
            },
            {
                "name": "noc_config",
                "scope": {"step": ["configuration", "acceptance_test"]},
                "when": {
                    "all_of": [
                        {"field": "reason", "eq": "noc_configuration"},
                        {"measure": "blocked_for", "gt": "8 business hours"},
                    ]
                },
                "action": "route",
                "to": {"queue": "noc_config"},
            },
            {
                "name": "survey_slow",
                "scope": {"step": "site_survey"},
                "when": {
                    "any_of": [
                        {"measure": "time_in_state", "gt": "10d"},
                        {"not": {"field": "state", "in": ["in_progress", "blocked"]}},
                    ]
                },
                "action": "route",
                "to": {"queue": "survey_{region}"},
            },
            {
                "name": "provider_capacity",
                "when": {"field": "reason", "in": ["provider_capacity", "provider_fault"]},
                "action": "escalate",
                "levels": [{"to": {"owner": "provider"}}],
                "hold": "2 business days",
            },
            {
                "name": "planned_too_long",
                "when": {
                    "all_of": [
                        {"field": "state", "eq": "planned"},
                        {"measure": "time_in_state", "gt": "14d"},
                    ]
                },
                "action": "tag",
                "to": {"queue": "not_started"},
            },
        ]
    }
)


CALENDAR_TIME = ("customer_block", "old_work", "blocked_a_lot", "install_sla_at_risk",
                 "survey_slow", "planned_too_long")  # fmt: skip
"""The policies whose durations are all calendar time (no business calendar to consult)."""


def _rows(found: list[Findings]) -> list[list[object]]:
    return [
        [f.policy.tolist(), f.item.tolist(), f.action.tolist(), f.level.tolist(),
         f.target.tolist(), f.episode.tolist()]
        for f in found
    ]  # fmt: skip


def _backtest(frame: EventFrame, now: int, hours: int, options: dict[str, object]) -> Result:
    """A backtest hour by hour, against evaluate at each instant as a backtest used to run it."""
    instants = [now - hour * NS_PER_HOUR for hour in range(hours - 1, -1, -1)]
    # Every item has a target date, given as a mapping of item id to instant.
    first = frame.time[frame.offsets[:-1]] + 30 * NS_PER_DAY
    options = {**options, "targets": dict(zip(frame.items.tolist(), first.tolist(), strict=True))}

    def per_instant() -> list[Findings]:
        ledger, found = Escalations.empty(), []
        for instant in instants:
            new = evaluate(POLICIES, frame, now=instant, escalations=ledger, **options).new()
            ledger = ledger.extended(new)
            found.append(new)
        return found

    # Each timed twice, taking turns (a shared machine disturbs one run by a factor of 2), and
    # checked on the runs timed: at a million items one run of either takes about a minute.
    fast = slow = float("inf")
    for _ in range(2):
        began = time.perf_counter()
        result = backtest(POLICIES, frame, at=instants, **options)
        fast = min(fast, time.perf_counter() - began)
        began = time.perf_counter()
        reference = per_instant()
        slow = min(slow, time.perf_counter() - began)
        if _rows(list(result.findings)) != _rows(reference):
            raise AssertionError("backtest disagrees with evaluate at each instant")
    return Result(
        f"backtest: {hours} hourly instants over {frame.item_count:,} items",
        fast,
        items=hours,
        unit="instants",
        reference="evaluate at each instant",
        reference_seconds=slow,
        aim="faster than the loop",
        extra={"events recorded": f"{len(result):,}"},
    )


def run(*, quick: bool) -> list[Result]:
    items = 100_000 if quick else 1_000_000
    sample = 300 if quick else 1_000
    columns = synthetic_event_columns(events=int(items * EVENTS_PER_ITEM), seed=SEED)
    now = columns.pop("now")
    frame = EventFrame.from_columns(
        columns, owner="owner", reason="reason", attributes=["provider", "region", "step"]
    )
    del columns
    calendars = regional_calendars()
    # The SLA's clocks are the SLA layer's work (benchmarked there), an input here.
    slas = {"install": sla_clocks(INSTALL, frame, now=now, calendars=calendars)}
    options = {"now": now, "calendars": calendars, "slas": slas}

    began = time.perf_counter()
    found = evaluate(POLICIES, frame, **options)
    first = time.perf_counter() - began
    fast = best_of(lambda: evaluate(POLICIES, frame, **options), repeat=2)
    peak = peak_bytes(lambda: evaluate(POLICIES, frame, **options))

    # The per-item Python loop: each item's history in hand, evaluated one at a time.
    chosen = np.linspace(0, frame.item_count - 1, sample).astype(np.int64)
    ids = frame.items[chosen].tolist()
    histories = [ItemHistory.from_frame(frame, item) for item in ids]
    singles = [evaluate_item(POLICIES, h, **options) for h in histories]
    for item, one in zip(ids, singles, strict=True):
        if one.records() != found.where(item=item).records():
            raise AssertionError(f"evaluate_item disagrees with evaluate on {item!r}")
    # Timed after that first pass (which also lays out the calendars' years), best of three like
    # the bulk: a shared machine disturbs a loop of a few hundred milliseconds by a factor of 2.
    loop = best_of(lambda: [evaluate_item(POLICIES, h, **options) for h in histories])
    slow = loop / sample * frame.item_count
    per_policy = loop / sample / len(POLICIES)
    # The same check with the policies that count calendar time only: what working time costs.
    calendar_only = PolicySet([p for p in POLICIES if p.name in CALENDAR_TIME])
    calendar_loop = best_of(lambda: [evaluate_item(calendar_only, h, **options) for h in histories])
    calendar_per_policy = calendar_loop / sample / len(calendar_only)

    timed_backtest = _backtest(
        frame, now, 6 if quick else 8, {"calendars": calendars, "slas": slas}
    )

    label = (
        f"{len(POLICIES)} policies over {frame.item_count:,} items ({len(frame):,} events), "
        f"8 regional calendars"
    )
    return [
        Result(
            f"evaluate: {label}",
            fast,
            items=frame.item_count,
            reference=f"evaluate_item per item ({sample:,} timed, scaled)",
            reference_seconds=slow,
            aim=">= 30x",
            extra={
                "findings": f"{len(found):,}",
                "first call": f"{first * 1e3:.0f} ms",
                "peak": f"{peak / 2**20:.0f} MiB",
            },
        ),
        Result(
            "evaluate_item: one item, per policy",
            per_policy,
            items=1,
            unit="checks",
            aim="< 50 us per policy",
            extra={
                "per item (10 policies)": f"{loop / sample * 1e6:.0f} us",
                "calendar-time policies only": f"{calendar_per_policy * 1e6:.0f} us per policy",
            },
        ),
        timed_backtest,
    ]
