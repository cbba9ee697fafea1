"""Results, options and edge cases: hand-computed cases, empty inputs, bad options, display."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pendulum
import pytest
from hypothesis import given

from servicedelivery import metrics
from servicedelivery.errors import ValidationError
from servicedelivery.metrics import EventFrame
from servicedelivery.metrics._periods import periods_covering
from servicedelivery.model import NS_PER_DAY, NS_PER_HOUR, to_epoch_ns
from tests.metrics.strategies import History, histories

DAY = NS_PER_DAY
# A milestone worked, blocked on the provider, then on the customer, done; another still planned;
# a third reopened once.
COLUMNS = {
    "item": ["a", "a", "a", "a", "a", "b", "c", "c", "c", "c"],
    "time": [0, 1 * DAY, 3 * DAY, 4 * DAY, 6 * DAY, 2 * DAY, 0, DAY, 2 * DAY, 5 * DAY],
    "state": [
        "in_progress",
        "blocked",
        "blocked",
        "in_progress",
        "done",
        "planned",
        "in_progress",
        "done",
        "in_progress",
        "done",
    ],
    "reason": [None, "awaiting_provider", "site_access", None, None, None, None, None, None, None],
    "team": ["x", "x", "x", "x", "x", "y", "y", "y", "y", "y"],
}
NOW = 10 * DAY


@pytest.fixture
def frame() -> EventFrame:
    return EventFrame.from_columns(COLUMNS, reason="reason", attributes=["team"])


def test_hand_computed_cycle_lead_and_flow_efficiency(frame: EventFrame) -> None:
    cycle = metrics.cycle_time(frame)
    assert dict(zip(cycle.item_ids, cycle.duration // DAY, strict=True)) == {"a": 6, "c": 5}
    first = metrics.cycle_time(frame, reopened="first")
    assert dict(zip(first.item_ids, first.duration // DAY, strict=True)) == {"a": 6, "c": 1}
    last = metrics.cycle_time(frame, reopened="last")
    assert dict(zip(last.item_ids, last.duration // DAY, strict=True)) == {"a": 6, "c": 3}
    efficiency = metrics.flow_efficiency(frame)
    # a: 1 day + 2 days in progress out of 6; c: 1 + 3 out of 5 (a day done before reopening).
    assert efficiency.active.tolist() == [3 * DAY, 4 * DAY]
    assert efficiency.overall == pytest.approx(7 / 11)
    assert "overall 63.6%" in repr(efficiency)


def test_hand_computed_time_blocked_by_owner_and_reason(frame: EventFrame) -> None:
    blocked = metrics.time_in_state(frame, now=NOW, states=["blocked"], by=["owner", "reason"])
    table = blocked.to_pandas()
    assert table[["owner", "reason"]].values.tolist() == [
        ["provider", "awaiting_provider"],
        ["customer", "site_access"],
    ]
    assert table["duration"].tolist() == [pd.Timedelta(days=2), pd.Timedelta(days=1)]
    total = metrics.time_in_state(frame, now=NOW, states=["blocked"])
    assert total.duration.tolist() == [3 * DAY]
    assert total.count.tolist() == [2]


def test_aging_and_current_state(frame: EventFrame) -> None:
    assert len(metrics.work_item_age(frame, now=NOW)) == 0  # b is planned: not started
    current = metrics.time_in_current_state(frame, now=NOW)
    assert current.item_ids.tolist() == ["b"]
    assert current.duration.tolist() == [8 * DAY]
    with pytest.raises(ValidationError):
        metrics.work_item_age(frame)
    with pytest.raises(ValidationError):
        metrics.work_item_age(frame, now=NOW, reopened="first")


def test_summary_of_a_frame_counts_events_per_item(frame: EventFrame) -> None:
    summary = metrics.summarize(frame, by=["team"], percentiles=[50])
    assert summary.to_pandas().to_dict("list") == {
        "team": ["x", "y"],
        "count": [1, 2],
        "mean": [5.0, 2.5],
        "min": [5, 1],
        "p50": [5, 1],
        "max": [5, 4],
    }
    everything = metrics.summarize(frame, by=[], percentiles=[100])
    assert everything.count.tolist() == [3]


def test_summary_options_are_checked(frame: EventFrame) -> None:
    cycle = metrics.cycle_time(frame)
    with pytest.raises(ValidationError) as caught:
        metrics.summarize(cycle, by=["region", "team", "team"])
    assert [e.path for e in caught.value.errors] == ["by[0]", "by"]
    blocked = metrics.time_in_state(frame, now=NOW, states=["blocked"])
    with pytest.raises(ValidationError) as caught:
        metrics.summarize(blocked, by=["owner"])
    assert "time_in_state(..., by=['owner'])" in str(caught.value)
    with pytest.raises(ValidationError):
        metrics.summarize(cycle, by=["team"], percentiles=[101])
    with pytest.raises(ValidationError):
        metrics.summarize(cycle, by=["team"], percentiles=[])
    with pytest.raises(ValidationError):
        metrics.summarize("cycle time", by=["team"])  # type: ignore[arg-type]
    summary = metrics.summarize(cycle, by=["team"])
    with pytest.raises(ValidationError):
        summary.items(5)
    with pytest.raises(ValidationError):
        summary.find({"team": "z"})
    with pytest.raises(ValidationError):
        summary.find({"region": "x"})


def test_service_level_expectation(frame: EventFrame) -> None:
    expectation = metrics.service_level_expectation(metrics.cycle_time(frame), q=85)
    assert (expectation.within, expectation.count, expectation.within_days) == (6 * DAY, 2, 6)
    assert str(expectation) == "85% of 2 items: cycle time within 6d 00:00:00"
    empty = metrics.cycle_time(frame, now=DAY // 2)
    with pytest.raises(ValidationError):
        metrics.service_level_expectation(empty)


def test_metrics_on_an_empty_history_are_empty(frame: EventFrame) -> None:
    before = -1
    found = metrics.episodes(frame, now=before)
    assert len(found) == 0
    assert len(metrics.cycle_time(found)) == 0
    assert len(metrics.work_item_age(found)) == 0
    assert len(metrics.time_in_state(found)) == 0
    assert len(metrics.flow_efficiency(found)) == 0
    assert metrics.throughput(found).counts.tolist() == [0]
    assert metrics.summarize(metrics.cycle_time(found), by=["team"]).count.tolist() == []
    assert "no events" in repr(frame.as_of(before))


def test_options_are_checked(frame: EventFrame) -> None:
    with pytest.raises(ValidationError):
        metrics.cycle_time(frame, start=["working"])
    with pytest.raises(ValidationError):
        metrics.cycle_time(frame, start=[])
    with pytest.raises(ValidationError):
        metrics.cycle_time(frame, reopened="all")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        metrics.time_in_state(frame, now=NOW, by=["team"])
    with pytest.raises(ValidationError):
        metrics.episodes(frame, now="yesterday")
    with pytest.raises(ValidationError):
        metrics.episodes(frame, now=pendulum.naive(2024, 1, 1))
    found = metrics.episodes(frame, now=NOW)
    with pytest.raises(ValidationError):
        metrics.cycle_time(found, now=NOW + 1)
    assert len(metrics.cycle_time(found, now=NOW)) == 2
    with pytest.raises(ValidationError):
        metrics.cycle_time("frame")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        metrics.throughput(frame, freq="fortnight")
    with pytest.raises(ValidationError):
        metrics.throughput(frame, tz="Mars/Olympus")
    with pytest.raises(ValidationError):
        metrics.cumulative_flow(frame, now=NOW, start=NOW + 1)
    with pytest.raises(ValidationError):
        metrics.trend(frame, q=85)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        metrics.nearest_rank([], 50)


def test_now_may_be_an_aware_datetime(frame: EventFrame) -> None:
    at = pendulum.datetime(1970, 1, 11, tz="Europe/Paris")
    by_datetime = metrics.time_in_current_state(frame, now=at)
    assert by_datetime.now == to_epoch_ns(at)


def test_days_follow_the_zone_across_daylight_saving() -> None:
    first = to_epoch_ns(pendulum.datetime(2024, 3, 30, 12, tz="Europe/Paris"))
    last = to_epoch_ns(pendulum.datetime(2024, 4, 1, 12, tz="Europe/Paris"))
    days = periods_covering(first, last, freq="day", tz="Europe/Paris")
    assert [str(label) for label in days.labels] == ["2024-03-30", "2024-03-31", "2024-04-01"]
    assert (np.diff(days.bounds) // NS_PER_HOUR).tolist() == [24, 23, 24]
    weeks = periods_covering(first, last, freq="week", tz="Europe/Paris")
    assert [str(label) for label in weeks.labels] == ["2024-03-25", "2024-04-01"]
    months = periods_covering(first, last, freq="month", tz="UTC")
    assert [str(label) for label in months.labels] == ["2024-03-01", "2024-04-01"]
    assert days.index_of(np.array([first - DAY, first, last + DAY])).tolist() == [-1, 0, 3]


def test_results_show_themselves(frame: EventFrame) -> None:
    found = metrics.episodes(frame, now=NOW)
    results = [
        frame,
        found,
        metrics.cycle_time(found),
        metrics.time_in_state(found, by=["owner"]),
        metrics.flow_efficiency(found),
        metrics.throughput(found, freq="week"),
        metrics.cumulative_flow(found),
        metrics.work_in_progress(found),
        metrics.trend(metrics.cycle_time(found)),
        metrics.summarize(metrics.cycle_time(found), by=["team"]),
        metrics.forecast_how_many([1, 2], days=3, trials=20),
        metrics.forecast_when([1, 2], items=3, trials=20),
    ]
    for result in results:
        text = repr(result)
        assert text.splitlines()[0]
        assert result._repr_html_().startswith("<p><b>")
        table = result.to_pandas()
        assert len(table) == result._length()
    cycle_table = results[2].to_pandas()
    assert str(cycle_table["start"].dtype) == "datetime64[ns, UTC]"
    assert cycle_table["team"].tolist() == ["x", "y"]
    assert results[7].to_pandas()["count"].tolist()[-1] == 0


def test_long_tables_show_their_ends_only() -> None:
    frame = EventFrame.from_columns(
        {"item": [f"m{i:02d}" for i in range(30)], "time": list(range(30)), "state": ["done"] * 30}
    )
    lines = repr(frame).splitlines()
    assert len(lines) == 13  # title, header, five rows, "...", five rows
    assert lines[7] == "  ..."
    assert "m00" in lines[2]
    assert "m29" in lines[-1]


@given(histories())
def test_as_of_is_the_same_as_building_from_the_earlier_rows(history: History) -> None:
    columns, now = history
    frame = EventFrame.from_columns(
        columns, owner="owner", reason="reason", attributes=["provider"]
    )
    early = [position for position, time in enumerate(columns["time"]) if time <= now]
    if not early:
        assert len(frame.as_of(now)) == 0
        return
    built = EventFrame.from_columns(
        {name: [values[p] for p in early] for name, values in columns.items()},
        owner="owner",
        reason="reason",
        attributes=["provider"],
    )
    seen = frame.as_of(now)
    for name in ("item", "time", "state", "owner", "reason"):
        assert getattr(seen, name).tolist() == getattr(built, name).tolist()
    assert seen.items.tolist() == built.items.tolist()
    assert (
        seen.item_attributes["provider"].labels().tolist()
        == built.item_attributes["provider"].labels().tolist()
    )
    assert np.array(early)[built.position].tolist() == seen.position.tolist()


@pytest.mark.parametrize("q", [float("nan"), float("inf"), -1, 100.5, "85", True])
def test_bad_percentiles_are_refused(q: object) -> None:
    with pytest.raises(ValidationError):
        metrics.nearest_rank([1, 2, 3], q)  # type: ignore[arg-type]
