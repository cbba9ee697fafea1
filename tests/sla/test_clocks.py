"""SLA clocks agree with a minute-walking reference, and the bulk and single-item paths agree."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.model import OWNERS
from servicedelivery.sla import SLA, sla_clock, sla_clocks
from tests.sla import reference as ref
from tests.sla.strategies import Scenario, scenarios


def compute(scenario: Scenario, sla: SLA | None = None):  # type: ignore[no-untyped-def]
    return sla_clocks(
        sla or scenario.sla, scenario.frame(), now=scenario.now, calendars=scenario.calendars
    )


@given(scenarios())
def test_every_clock_matches_the_minute_walk(scenario: Scenario) -> None:
    clocks = compute(scenario)
    sla = scenario.sla
    data = sla.to_data()
    events = scenario.item_events()
    for code, item in enumerate(clocks.item_ids.tolist()):
        counter = scenario.counter(item)
        expected = ref.clock(data, events.get(item, []), scenario.now, counter)
        actual = {
            "started": bool(clocks.started[code]),
            "start_ns": int(clocks.start_ns[code]),
            "stopped": bool(clocks.stopped[code]),
            "stop_ns": int(clocks.stop_ns[code]),
            "cancelled": bool(clocks.cancelled[code]),
            "running": bool(clocks.running[code]),
            "paused": bool(clocks.paused[code]),
            "elapsed_ns": int(clocks.elapsed_ns[code]),
            "paused_ns": int(clocks.paused_ns[code]),
            "by_owner": clocks.paused_by_owner[code].tolist(),
            "passes": int(clocks.passes[code]),
            "evidence": [(e.kind, e.event) for e in clocks.evidence.events_of(code)],
        }
        assert actual == {
            "started": expected.started,
            "start_ns": expected.start_ns,
            "stopped": expected.stopped,
            "stop_ns": expected.stop_ns,
            "cancelled": expected.cancelled,
            "running": expected.running,
            "paused": expected.paused,
            "elapsed_ns": expected.elapsed_ns,
            "paused_ns": expected.paused_ns,
            "by_owner": [expected.paused_by_owner.get(o.value, 0) for o in OWNERS],
            "passes": expected.passes,
            "evidence": expected.evidence,
        }, item
        target = sla.target_ns
        assert clocks.remaining_ns[code] == target - expected.elapsed_ns
        reached = sum(threshold < expected.elapsed_ns for threshold in sla.thresholds_ns())
        assert clocks.stage[code] == reached - 1
        verdict = -1
        if expected.stopped and not expected.cancelled:
            verdict = int(expected.elapsed_ns <= target)
        assert clocks.met[code] == verdict
        breach = ref.reached_at(expected, target, scenario.now, counter)
        if breach is not None:  # else it lies past the walked window
            assert clocks.breach_ns[code] == breach, item


@given(scenarios())
def test_stage_instants_match_the_minute_walk(scenario: Scenario) -> None:
    clocks = compute(scenario)
    data = scenario.sla.to_data()
    events = scenario.item_events()
    thresholds = scenario.sla.thresholds_ns()
    stage_ns = clocks.stage_ns
    assert stage_ns.shape == (len(clocks), len(thresholds))
    for code, item in enumerate(clocks.item_ids.tolist()):
        counter = scenario.counter(item)
        expected = ref.clock(data, events.get(item, []), scenario.now, counter)
        for column, threshold in enumerate(thresholds):
            when = ref.reached_at(expected, threshold, scenario.now, counter)
            if when is not None:
                assert stage_ns[code, column] == when


@given(scenarios())
def test_one_item_at_a_time_agrees_with_all_items_at_once(scenario: Scenario) -> None:
    clocks = compute(scenario)
    frame = scenario.frame()
    for item in frame.items.tolist():
        one = sla_clock(scenario.sla, frame, item, now=scenario.now, calendars=scenario.calendars)
        assert one == clocks.clock(item)
        for threshold in scenario.sla.thresholds_ns():
            assert one.reached_at(threshold) == clocks.clock(item).reached_at(threshold)


@given(scenarios())
def test_a_clock_at_now_ignores_what_happens_later(scenario: Scenario) -> None:
    frame = scenario.frame()
    later = compute(scenario)
    cut = sla_clocks(
        scenario.sla, frame.as_of(scenario.now), now=scenario.now, calendars=scenario.calendars
    )
    codes = frame.codes_of(cut.item_ids.tolist())
    for name in ("elapsed_ns", "paused_ns", "start_ns", "stop_ns", "breach_ns", "met", "stage"):
        assert getattr(cut, name).tolist() == getattr(later, name)[codes].tolist(), name
    # Items whose events all come later have clocks that have not started.
    absent = np.setdiff1d(np.arange(len(later)), codes)
    assert not later.started[absent].any()
    assert (later.breach_ns[absent] == np.iinfo(np.int64).min).all()


@given(scenarios(), st.integers(0, 3 * 24 * 60))
def test_round_the_clock_working_time_is_elapsed_time(scenario: Scenario, minutes: int) -> None:
    frame = scenario.frame()
    now = scenario.now + minutes * 60 * 10**9
    elapsed = sla_clocks(
        SLA.from_data({**scenario.sla.to_data(), "calendar": None}), frame, now=now
    )
    always = CalendarSet(default=BusinessCalendar.twenty_four_seven(name="office"))
    working = sla_clocks(
        SLA.from_data({**scenario.sla.to_data(), "calendar": "item"}),
        frame,
        now=now,
        calendars=always,
    )
    for name in ("elapsed_ns", "paused_ns", "breach_ns", "stage", "met", "paused_by_owner"):
        assert getattr(working, name).tolist() == getattr(elapsed, name).tolist(), name


@given(scenarios())
def test_counted_time_adds_up(scenario: Scenario) -> None:
    clocks = compute(scenario)
    assert (clocks.elapsed_ns >= 0).all()
    assert (clocks.paused_by_owner.sum(axis=1) <= clocks.paused_ns).all()
    assert not (clocks.running & clocks.paused).any()
    assert not ((clocks.running | clocks.paused) & clocks.stopped).any()
    assert ((clocks.running | clocks.paused | clocks.stopped) == clocks.started).all()
    assert (clocks.cancelled <= clocks.stopped).all()
    assert ((clocks.met >= 0) == (clocks.stopped & ~clocks.cancelled)).all()
    # A clock in a stage has counted more than its threshold; the breach follows every stage.
    over = clocks.elapsed_ns > scenario.sla.target_ns
    assert (over == (clocks.fraction_used > 1)).all()
    assert ((clocks.stage >= 0) <= clocks.started).all()


@given(scenarios(), st.integers(1, 3 * 24 * 60))
def test_between_events_a_clock_counts_the_working_time_of_the_gap(
    scenario: Scenario, minutes: int
) -> None:
    later_events = [t for t in scenario.columns["time"] if t > scenario.now]  # type: ignore[operator]
    later = scenario.now + minutes * 60 * 10**9
    if later_events:
        later = min(later, min(later_events) - 1)  # type: ignore[type-var]
    frame = scenario.frame()
    before = compute(scenario)
    after = sla_clocks(scenario.sla, frame, now=later, calendars=scenario.calendars)
    for code, item in enumerate(before.item_ids.tolist()):
        gap = scenario.counter(item).between(scenario.now, later)
        running, paused = bool(before.running[code]), bool(before.paused[code])
        assert after.elapsed_ns[code] == before.elapsed_ns[code] + (gap if running else 0)
        assert after.paused_ns[code] == before.paused_ns[code] + (gap if paused else 0)
        # Nothing happened: the same state, and the same breach unless a pause moved it.
        assert (after.running[code], after.paused[code]) == (running, paused)
        if not paused:
            assert after.breach_ns[code] == before.breach_ns[code]
