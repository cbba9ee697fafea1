"""Monte Carlo forecasts: exact on degenerate histories, consistent with each other, seeded."""

from __future__ import annotations

import math

import numpy as np
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import ValidationError
from servicedelivery.metrics import (
    EventFrame,
    HowManyForecast,
    WhenForecast,
    cycle_time,
    forecast_how_many,
    forecast_when,
    throughput,
)
from servicedelivery.model import NS_PER_DAY


@given(st.integers(1, 5), st.integers(1, 40), st.integers(1, 200))
def test_a_constant_history_forecasts_exactly(rate: int, days: int, items: int) -> None:
    how_many = forecast_how_many([rate], days=days, trials=50, seed=1)
    assert set(how_many.totals.tolist()) == {rate * days}
    when = forecast_when([rate], items=items, trials=50, seed=1)
    assert set(when.days.tolist()) == {math.ceil(items / rate)}


@given(st.lists(st.integers(0, 1_000), min_size=1, max_size=200), st.sampled_from([0, 50, 85, 100]))
def test_at_least_is_the_largest_count_reached_with_that_confidence(
    totals: list[int], confidence: int
) -> None:
    forecast = HowManyForecast(days=1, seed=0, totals=np.array(totals, dtype=np.int64))
    answer = forecast.at_least(confidence)
    share = sum(total >= answer for total in totals) / len(totals)
    assert share * 100 >= confidence - 1e-9
    larger = [value for value in set(totals) if value > answer]
    # Any larger count is reached by fewer trials than the confidence asks for.
    assert all(sum(t >= value for t in totals) * 100 < confidence * len(totals) for value in larger)


@given(st.lists(st.integers(1, 500), min_size=1, max_size=200), st.sampled_from([1, 50, 85, 100]))
def test_within_is_the_fewest_days_enough_for_that_confidence(
    days: list[int], confidence: int
) -> None:
    forecast = WhenForecast(items=1, seed=0, days=np.array(days, dtype=np.int64))
    answer = forecast.within(confidence)
    assert sum(d <= answer for d in days) * 100 >= confidence * len(days)
    assert all(
        sum(d <= value for d in days) * 100 < confidence * len(days)
        for value in set(days)
        if value < answer
    )


def test_when_and_how_many_agree_on_the_same_history() -> None:
    # P(done within d days) = P(at least N done in d days): two simulations, independent seeds.
    history = np.array([0, 0, 1, 2, 0, 3, 1, 0, 5, 1])
    items, days = 40, 30
    when = forecast_when(history, items=items, trials=20_000, seed=3)
    how_many = forecast_how_many(history, days=days, trials=20_000, seed=4)
    share_when = float(np.mean(when.days <= days))
    share_how_many = float(np.mean(how_many.totals >= items))
    assert share_when == pytest.approx(share_how_many, abs=0.02)
    assert how_many.totals.mean() == pytest.approx(days * history.mean(), rel=0.02)


def test_the_same_seed_gives_the_same_forecast() -> None:
    history = [0, 1, 3, 0, 2]
    first = forecast_when(history, items=30, trials=1_000, seed=9)
    again = forecast_when(history, items=30, trials=1_000, seed=9)
    other = forecast_when(history, items=30, trials=1_000, seed=10)
    assert first.days.tolist() == again.days.tolist()
    assert first.days.tolist() != other.days.tolist()


def test_long_forecasts_run_in_blocks() -> None:
    # Far more trial-days than one block holds: the loop continues for trials still running.
    when = forecast_when([0] * 50 + [1], items=300, trials=2_000, seed=0)
    assert when.days.min() >= 300
    assert when.days.mean() == pytest.approx(300 * 51, rel=0.05)


def test_dates_come_from_a_daily_throughput_history() -> None:
    frame = EventFrame.from_columns(
        {
            "item": ["a", "a", "b", "b"],
            "time": [0, NS_PER_DAY, 0, 3 * NS_PER_DAY + 5],
            "state": ["in_progress", "done", "in_progress", "done"],
        }
    )
    daily = throughput(cycle_time(frame))
    assert daily.counts.tolist() == [0, 1, 0, 1]
    forecast = forecast_when(daily, items=1, trials=500, seed=2)
    assert forecast.start == pendulum.Date(1970, 1, 5)
    assert forecast.date(100) == pendulum.Date(1970, 1, 5).add(days=forecast.within(100) - 1)
    table = forecast.to_pandas()
    assert table.columns.tolist() == ["confidence", "days", "date"]
    weekly = throughput(cycle_time(frame), freq="week")
    with pytest.raises(ValidationError):
        forecast_how_many(weekly, days=3)


@pytest.mark.parametrize(
    ("history", "options"),
    [
        ([], {"items": 1}),
        ([1, -1], {"items": 1}),
        ([0, 0], {"items": 1}),
        ([1], {"items": 0}),
        ([1], {"items": 1, "trials": 0}),
        ([1.5], {"items": 1}),
    ],
)
def test_bad_forecast_inputs_are_refused(history: list[float], options: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        forecast_when(history, **options)  # type: ignore[arg-type]


def test_a_forecast_without_a_start_has_no_date() -> None:
    with pytest.raises(ValidationError):
        forecast_when([1], items=3, trials=10).date(85)
