"""Lifecycle: whole histories through the table, against a Python replay; one machine transition."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
import numpy as np
import numpy.typing as npt

from benchmarks._harness import Result, best_of
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle, Trigger
from servicedelivery.model import DEFAULT_TAXONOMY, OWNERS, Milestone, MilestoneState, Owner

# How a delivery team's milestones move, per state: (trigger, weight). Histories end in done or
# cancelled; one event in a hundred is noise (a random trigger, usually illegal where it lands).
_HABITS = {
    "planned": {"start": 0.85, "block": 0.10, "cancel": 0.05},
    "in_progress": {"block": 0.55, "complete": 0.42, "cancel": 0.03},
    "blocked": {"unblock": 0.75, "reclassify": 0.23, "cancel": 0.02},
    "done": {"reopen": 1.0},
    "cancelled": {"start": 1.0},  # never drawn but as noise: cancelled histories end
}
_NOISE = 0.01
_MAX_LENGTH = 40


def history(
    n_events: int, *, seed: int, lifecycle: Lifecycle = DEFAULT_LIFECYCLE
) -> dict[str, npt.NDArray[np.int64]]:
    """A seeded history of about ``n_events`` events, items interleaved in time order.

    Returns the columns ``items``, ``triggers``, ``times`` (epoch ns), ``owners``, ``reasons``,
    ``overrides``: what an event log's frame holds.
    """
    rng = np.random.default_rng(seed)
    names = lifecycle.trigger_names
    table = lifecycle.table.destinations
    n_items = max(1, n_events // 5)
    done, cancelled = lifecycle.state_code("done"), lifecycle.state_code("cancelled")
    state = np.zeros(n_items, dtype=np.int64)
    alive = np.ones(n_items, dtype=bool)
    steps: list[npt.NDArray[np.int64]] = []
    # A loop over depth (at most _MAX_LENGTH), vectorized over items: data generation only.
    for _ in range(_MAX_LENGTH):
        trigger = np.zeros(n_items, dtype=np.int64)
        for code, name in enumerate(lifecycle.state_names):
            here = np.flatnonzero(state == code)
            habits = _HABITS[name]
            choices = [names.index(t) for t in habits]
            trigger[here] = rng.choice(choices, size=len(here), p=list(habits.values()))
        noisy = rng.random(n_items) < _NOISE
        trigger[noisy] = rng.integers(0, len(names), int(noisy.sum()))
        trigger[~alive] = -1
        steps.append(trigger)
        dest = table[np.maximum(trigger, 0), state]
        moved = alive & (dest >= 0)
        state = np.where(moved, dest, state)
        # A history ends once cancelled, and once done unless the work is reopened later.
        alive &= (state != cancelled) & ((state != done) | (rng.random(n_items) < 0.1))
    matrix = np.stack(steps, axis=1)
    item_of, depth = np.nonzero(matrix >= 0)
    triggers = matrix[item_of, depth]
    n = len(triggers)
    # Each item starts at a random instant over ten years; events follow hours to weeks apart.
    begin = rng.integers(1_500_000_000, 1_800_000_000, n_items) * 1_000_000_000
    gaps = rng.integers(3_600, 30 * 86_400, n) * 1_000_000_000
    firsts = np.flatnonzero(np.r_[True, item_of[1:] != item_of[:-1]])
    total = np.cumsum(gaps)
    lengths = np.diff(np.r_[firsts, n])
    times = begin[item_of] + total - np.repeat(total[firsts] - gaps[firsts], lengths)
    order = np.argsort(times, kind="stable")
    reasons = np.full(n, -1, dtype=np.int64)
    owners = np.full(n, -1, dtype=np.int64)
    blocks = np.isin(triggers, [names.index(Trigger.BLOCK), names.index(Trigger.RECLASSIFY)])
    reason = rng.integers(0, len(DEFAULT_TAXONOMY), n)
    default_owner = np.array([OWNERS.index(r.owner) for r in DEFAULT_TAXONOMY.reasons])
    overrides = blocks & (rng.random(n) < 0.05)
    reasons[blocks] = reason[blocks]
    owners[blocks] = np.where(
        overrides[blocks], rng.integers(0, len(OWNERS), n)[blocks], default_owner[reason[blocks]]
    )
    return {
        "items": item_of[order],
        "triggers": triggers[order],
        "times": times[order],
        "owners": owners[order],
        "reasons": reasons[order],
        "overrides": overrides[order],
    }


def python_replay(
    lifecycle: Lifecycle, items: npt.NDArray[np.int64], triggers: npt.NDArray[np.int64]
) -> tuple[list[int], dict[int, int]]:
    """The obvious replay: walk the events in order, each item's state in a dict."""
    moves = {
        (source, trigger): dest
        for trigger, row in enumerate(lifecycle.table.destinations.tolist())
        for source, dest in enumerate(row)
        if dest >= 0
    }
    initial = lifecycle.state_code(lifecycle.initial)
    state: dict[int, int] = {}
    violations: list[int] = []
    for position, (item, trigger) in enumerate(zip(items.tolist(), triggers.tolist(), strict=True)):
        dest = moves.get((state.get(item, initial), trigger))
        if dest is None:
            violations.append(position)
        else:
            state[item] = dest
    return violations, state


def _per_call(function: Callable[[], object], calls: int) -> float:
    """Seconds per call, the best of three rounds of ``calls`` calls."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def run(*, quick: bool) -> list[Result]:
    n = 1_000_000 if quick else 10_000_000
    data = history(n, seed=20240331)
    items, triggers = data["items"], data["triggers"]
    table = DEFAULT_LIFECYCLE.table
    check = table.validate(items, triggers)
    fast = best_of(lambda: table.validate(items, triggers), repeat=3)
    with_times = best_of(lambda: table.validate(items, triggers, times=data["times"]), repeat=3)
    details = {key: data[key] for key in ("times", "owners", "reasons", "overrides")}
    with_guards = best_of(lambda: table.validate(items, triggers, **details), repeat=3)
    start = time.perf_counter()
    violations, final = python_replay(DEFAULT_LIFECYCLE, items, triggers)
    slow = time.perf_counter() - start
    # The table must agree with the replay it is measured against.
    assert violations == check.positions.tolist()
    assert [final.get(int(i), 0) for i in check.items] == check.final_states.tolist()
    events = len(items)
    label = f"{events:,} events, {len(check.items):,} items"
    results = [
        Result(
            f"table.validate, {label}",
            fast,
            items=events,
            unit="events",
            reference="Python dict replay",
            reference_seconds=slow,
            aim=">= 10x",
            extra={"violations": len(violations)},
        ),
        Result(
            "  ... with times (ordered by item, time)",
            with_times,
            items=events,
            unit="events",
            reference="Python dict replay",
            reference_seconds=slow,
        ),
        Result(
            "  ... with times, owners, reasons, overrides (guards)",
            with_guards,
            items=events,
            unit="events",
            reference="Python dict replay",
            reference_seconds=slow,
        ),
    ]
    results.extend(_single(quick=quick))
    return results


def _single(*, quick: bool) -> list[Result]:
    calls = 2_000 if quick else 20_000
    lifecycle = DEFAULT_LIFECYCLE
    started = Milestone(
        id="M-1", order_id="O-1", step="site_survey", state=MilestoneState.IN_PROGRESS
    )

    def block_and_unblock() -> None:
        blocked = lifecycle.apply(started, "block", reason="site_access", owner="customer")
        lifecycle.apply(blocked, "unblock")

    def build_both() -> None:
        # The floor: building the same two new frozen milestones, with their checks.
        attrs.evolve(
            started, state=MilestoneState.BLOCKED, owner=Owner.CUSTOMER, reason="site_access"
        )
        attrs.evolve(started)

    machine = _per_call(block_and_unblock, calls) / 2
    floor = _per_call(build_both, calls) / 2
    moves = {("in_progress", "block"): "blocked"}

    def scalar() -> None:
        lifecycle.next_state("in_progress", "block", reason="site_access", owner="customer")

    def lookup() -> None:
        moves.get(("in_progress", "block"))

    check = _per_call(scalar, calls * 5)
    plain = _per_call(lookup, calls * 5)
    return [
        Result(
            "apply(): one transition through the transitions machine",
            machine,
            items=1,
            unit="transitions",
            reference="building the new Milestone alone",
            reference_seconds=floor,
            aim="< 50 us",
            extra={"us": round(machine * 1e6, 1)},
        ),
        Result(
            "next_state(): the scalar check of a guarded block",
            check,
            items=1,
            unit="checks",
            reference="one dict look-up",
            reference_seconds=plain,
            aim="~1 us",
            extra={"us": round(check * 1e6, 2)},
        ),
    ]
