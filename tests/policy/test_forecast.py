"""Target date at risk: the Monte Carlo forecast against a slow reference and hand cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import ValidationError
from servicedelivery.metrics import EventFrame, episodes
from servicedelivery.metrics._options import OPEN_STATES
from servicedelivery.model import NS_PER_HOUR, STATES
from servicedelivery.policy import (
    ItemHistory,
    Policy,
    evaluate,
    evaluate_item,
    forecast_completion,
)
from tests.metrics.strategies import BASE, histories

H = NS_PER_HOUR
DONE = STATES.index("done")


def _reference(  # noqa: PLR0917 - a test's own helper
    frame: EventFrame,
    now: int,
    targets: dict[Any, int],
    by: tuple[str, ...],
    min_samples: int,
    trials: int,
    seed: int,
) -> dict[Any, tuple[float, int, int]]:
    """Item by item, in plain Python, with the same generator and the same draws."""
    ep = episodes(frame, now=now)
    seen = ep.frame
    names = [n for n in by if n in seen.item_attributes]
    labels = {n: seen.item_attributes[n].labels().tolist() for n in names}
    history: list[tuple[int, list[Any], int]] = []  # (state, attributes, remaining)
    current: dict[int, tuple[int, int]] = {}
    for item in range(seen.item_count):
        lo, hi = int(ep.offsets[item]), int(ep.offsets[item + 1])
        current[item] = (int(ep.state[hi - 1]), int(ep.start[hi - 1]))
        if ep.state[hi - 1] == DONE:
            done = int(ep.start[hi - 1])
            history.extend(
                (int(ep.state[e]), [labels[n][item] for n in names], done - int(ep.start[e]))
                for e in range(lo, hi)
                if OPEN_STATES[ep.state[e]]
            )
    rng = np.random.default_rng(seed)
    result = {}
    forecast_items = []
    for item in range(seen.item_count):
        state, start = current[item]
        if not OPEN_STATES[state]:
            continue
        attrs = [labels[n][item] for n in names]
        for level in range(len(names), -2, -1):
            pool = sorted(
                r for s, a, r in history
                if r > now - start and (level < 0 or (s == state and a[:level] == attrs[:level]))
            )  # fmt: skip
            if len(pool) >= (min_samples if level > -1 else 1):
                forecast_items.append((item, start, pool))
                break
    draws = rng.random((len(forecast_items), trials))
    for row, (item, start, pool) in enumerate(forecast_items):
        done = sorted(start + pool[min(int(u * len(pool)), len(pool) - 1)] for u in draws[row])
        key = seen.items[item]
        target = targets.get(key)
        late = float("nan") if target is None else sum(d > target for d in done) / trials
        result[key] = (
            late,
            done[int(np.ceil(0.85 * trials)) - 1],
            done[int(np.ceil(0.5 * trials)) - 1],
        )
    return result


@given(histories(max_items=8, max_rows=40), st.data())
def test_the_forecast_matches_a_slow_reference_with_the_same_seed(
    history: Any, data: st.DataObject
) -> None:
    columns, now = history
    frame = EventFrame.from_columns(columns, owner="owner", reason="reason",
                                    attributes=["provider"])  # fmt: skip
    targets = {
        item: BASE + data.draw(st.integers(0, 300)) * H
        for item in frame.items.tolist()
        if data.draw(st.booleans())
    }
    min_samples = data.draw(st.integers(1, 4))
    seed = data.draw(st.integers(0, 5))
    found = forecast_completion(frame, now=now, targets=targets, by=("provider",),
                                min_samples=min_samples, trials=50, seed=seed)  # fmt: skip
    expected = _reference(frame, now, targets, ("provider",), min_samples, 50, seed)
    got = {
        item: (float(p), int(p85), int(p50))
        for item, p, p85, p50, level in zip(
            found.item_ids.tolist(), found.miss_probability, found.p85_ns, found.p50_ns,
            found.level, strict=True,
        )
        if level > -2
    }  # fmt: skip
    assert got.keys() == expected.keys()
    for item, (p, p85, p50) in expected.items():
        assert got[item][1:] == (p85, p50)
        assert (np.isnan(p) and np.isnan(got[item][0])) or got[item][0] == p


def _portfolio() -> tuple[EventFrame, int]:
    """Ten items done 10h after they started, and one open item started 4h before now."""
    columns: dict[str, list[Any]] = {"item": [], "time": [], "state": [], "step": []}
    for index in range(10):
        for hours, state in ((0, "in_progress"), (10, "done")):
            columns["item"].append(f"old{index}")
            columns["time"].append(BASE + (index * 24 + hours) * H)
            columns["state"].append(state)
            columns["step"].append("install")
    now = BASE + 300 * H
    columns["item"].append("new")
    columns["time"].append(now - 4 * H)
    columns["state"].append("in_progress")
    columns["step"].append("install")
    return EventFrame.from_columns(columns, attributes=["step"]), now


def test_a_deterministic_history_gives_an_exact_forecast_and_tags_the_item_at_risk() -> None:
    frame, now = _portfolio()
    # Every completed item took 10h in progress: the open one is done 6h from now, exactly.
    targets = {"new": now + 5 * H}
    found = forecast_completion(frame, now=now, targets=targets, by=("step",), min_samples=5)
    row = frame.items.tolist().index("new")
    assert found.p85_ns[row] == found.p50_ns[row] == now + 6 * H
    assert found.miss_probability[row] == 1.0
    assert found.level[row] == 1
    assert found.samples[row] == 10
    assert found.at_risk(0.5).tolist() == ["new"]
    assert np.isnan(found.miss_probability[frame.items.tolist().index("old0")])
    later = forecast_completion(frame, now=now, targets={"new": now + 6 * H}, min_samples=5)
    assert later.miss_probability[row] == 0.0  # done exactly at the target is not late
    policy = Policy.from_data(
        {
            "name": "target_date_at_risk",
            "when": {"measure": "target_miss_probability", "ge": 0.5},
            "action": "tag",
            "to": {"queue": "target_date_at_risk"},
        }
    )
    tagged = evaluate(policy, frame, now=now, forecast=found)
    assert tagged.item.tolist() == ["new"]
    assert tagged.explain(0)["when"]["value"] == 1.0
    one = evaluate_item(policy, ItemHistory.from_frame(frame, "new"), now=now, forecast=found)
    assert one.records() == tagged.records()
    with pytest.raises(ValidationError, match="CompletionForecast"):
        evaluate(policy, frame, now=now)


def test_bad_options_are_refused_and_the_same_seed_gives_the_same_forecast() -> None:
    frame, now = _portfolio()
    for bad in ({"trials": 0}, {"min_samples": -1}, {"seed": -2}, {"trials": True}):
        with pytest.raises(ValidationError):
            forecast_completion(frame, now=now, **bad)
    a = forecast_completion(frame, now=now, min_samples=3, seed=7)
    b = forecast_completion(frame, now=now, min_samples=3, seed=7)
    assert a.p85_ns.tolist() == b.p85_ns.tolist()
    assert "CompletionForecast" in repr(a)
