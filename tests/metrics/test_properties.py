"""Every metric agrees exactly with the slow per-item reference on random histories."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery import metrics
from servicedelivery.metrics import EventFrame
from tests.metrics import reference as ref
from tests.metrics.strategies import STATE_VALUES, History, histories

STATE_SETS = st.sets(st.sampled_from(STATE_VALUES), min_size=1).map(sorted)


def frame_of(columns: dict[str, list[object]]) -> EventFrame:
    return EventFrame.from_columns(columns, owner="owner", reason="reason", attributes=["provider"])


def as_rows(columns: dict[str, list[object]]) -> list[ref.Row]:
    return ref.rows_from_columns(columns)


@given(histories())
def test_episodes_match_the_reference(history: History) -> None:
    columns, now = history
    found = metrics.episodes(frame_of(columns), now=now)
    expected = ref.episodes(as_rows(columns), now)
    actual: dict[str, list[ref.Episode]] = defaultdict(list)
    table = found.to_pandas()
    for row in table.itertuples(index=False):
        actual[row.item].append(
            ref.Episode(
                state=row.state,
                owner=row.owner,
                reason=row.reason,
                start=int(row.start.value),
                end=int(row.end.value),
                first_position=int(row.first_event),
                events=int(row.events),
                last=bool(row.last),
            )
        )
    assert dict(actual) == expected


@given(histories())
def test_episodes_tile_each_history_up_to_now(history: History) -> None:
    columns, now = history
    found = metrics.episodes(frame_of(columns), now=now)
    totals = np.add.reduceat(found.duration, found.offsets[:-1]) if len(found) else []
    firsts = found.start[found.offsets[:-1]]
    assert list(totals) == [now - first for first in firsts.tolist()]
    assert (found.duration >= 0).all()


@given(
    histories(),
    STATE_SETS,
    STATE_SETS,
    st.sampled_from(["span", "first", "last"]),
)
def test_cycle_time_matches_the_reference(
    history: History, start: list[str], end: list[str], reopened: str
) -> None:
    columns, now = history
    frame = frame_of(columns)
    result = metrics.cycle_time(frame, start=start, end=end, reopened=reopened, now=now)  # type: ignore[arg-type]
    expected = ref.cycle_times(
        as_rows(columns), now, start=set(start), end=set(end), reopened=reopened
    )
    actual = dict(
        zip(
            result.item_ids.tolist(),
            zip(result.start.tolist(), result.end.tolist(), strict=True),
            strict=True,
        )
    )
    assert actual == expected
    assert (result.duration == result.end - result.start).all()


@given(histories(), st.sampled_from(["span", "first", "last"]))
def test_lead_time_is_cycle_time_from_the_first_event(history: History, reopened: str) -> None:
    columns, now = history
    result = metrics.lead_time(frame_of(columns), reopened=reopened, now=now)  # type: ignore[arg-type]
    expected = ref.cycle_times(
        as_rows(columns), now, start=set(STATE_VALUES), end={"done"}, reopened=reopened
    )
    assert (
        dict(zip(result.item_ids, zip(result.start, result.end, strict=True), strict=True))
        == expected
    )


@given(histories())
def test_evidence_names_the_events_that_start_and_end_a_cycle(history: History) -> None:
    columns, now = history
    result = metrics.cycle_time(frame_of(columns), now=now)
    eps = ref.episodes(as_rows(columns), now)
    for item, start in zip(result.item_ids, result.start, strict=True):
        first, last = result.evidence(item)
        by_position = {ep.first_position: ep for ep in eps[item]}
        assert by_position[first].start == start
        assert by_position[last].state == "done"


@given(histories(), st.sampled_from(["span", "last"]))
def test_work_item_age_matches_the_reference(history: History, reopened: str) -> None:
    columns, now = history
    result = metrics.work_item_age(frame_of(columns), now=now, reopened=reopened)  # type: ignore[arg-type]
    expected = ref.ages(
        as_rows(columns),
        now,
        start={"in_progress", "blocked"},
        end={"done"},
        reopened=reopened,
    )
    actual = dict(
        zip(
            result.item_ids,
            zip(result.start.tolist(), result.to_pandas()["state"], strict=True),
            strict=True,
        )
    )
    assert actual == expected
    assert (result.end == now).all()


@given(histories())
def test_time_in_current_state_matches_the_reference(history: History) -> None:
    columns, now = history
    result = metrics.time_in_current_state(frame_of(columns), now=now)
    table = result.to_pandas()
    actual = {row.item: (int(row.start.value), row.state, row.owner) for row in table.itertuples()}
    assert actual == ref.current_states(as_rows(columns), now)
    assert list(result.duration) == [now - start for start in result.start]


@given(
    histories(),
    st.sampled_from([(), ("owner",), ("reason",), ("owner", "reason")]),
    st.none() | STATE_SETS,
)
def test_time_in_state_matches_the_reference(
    history: History, split: tuple[str, ...], states: list[str] | None
) -> None:
    columns, now = history
    result = metrics.time_in_state(frame_of(columns), now=now, by=split, states=states)
    expected = {
        key: value
        for key, value in ref.time_in_states(as_rows(columns), now, split=split).items()
        if states is None or key[1] in states
    }
    table = result.to_pandas()
    actual = {
        (row.item, row.state, row.owner, row.reason): (
            int(row.duration.value),
            int(row.episodes),
        )
        for row in table.itertuples()
    }
    assert actual == expected


@given(histories())
def test_flow_efficiency_matches_the_reference(history: History) -> None:
    columns, now = history
    result = metrics.flow_efficiency(frame_of(columns), now=now)
    actual = dict(
        zip(
            result.episodes.frame.items[result.item],
            zip(result.active, result.total, strict=True),
            strict=True,
        )
    )
    expected = ref.flow_efficiencies(as_rows(columns), now)
    assert actual == expected
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.allclose(
            result.ratio,
            np.where(result.total > 0, result.active / result.total, np.nan),
            equal_nan=True,
        )


@given(
    histories(),
    st.sampled_from(["day", "week", "month"]),
    st.sampled_from(["UTC", "Europe/Paris", "Australia/Lord_Howe"]),
)
def test_throughput_matches_the_reference(history: History, freq: str, tz: str) -> None:
    columns, now = history
    frame = frame_of(columns)
    result = metrics.throughput(metrics.cycle_time(frame, now=now), freq=freq, tz=tz)
    completions = ref.cycle_times(
        as_rows(columns), now, start={"in_progress", "blocked"}, end={"done"}, reopened="span"
    )
    expected = Counter(ref.local_period(end, freq=freq, tz=tz) for _, end in completions.values())
    labels = [str(label) for label in result.periods.labels]
    assert dict(zip(labels, result.counts.tolist(), strict=True)) == {
        label: expected.get(label, 0) for label in labels
    }
    assert sum(result.counts) == len(completions)
    if len(frame.as_of(now)):
        first = ref.local_period(frame.as_of(now).first_time or 0, freq=freq, tz=tz)
        assert labels[0] == first
        assert labels[-1] == ref.local_period(now, freq=freq, tz=tz)
    for index in range(len(result)):
        assert sorted(result.items_in(index)) == sorted(
            item
            for item, (_, end) in completions.items()
            if ref.local_period(end, freq=freq, tz=tz) == labels[index]
        )


@given(histories(), st.sampled_from(["day", "week"]), st.sampled_from(["UTC", "Europe/Paris"]))
def test_cumulative_flow_counts_each_items_state_at_each_sample(
    history: History, freq: str, tz: str
) -> None:
    columns, now = history
    frame = frame_of(columns)
    if not len(frame.as_of(now)):
        return
    flow = metrics.cumulative_flow(frame, now=now, freq=freq, tz=tz)
    wip = metrics.work_in_progress(frame, now=now, freq=freq, tz=tz)
    rows = as_rows(columns)
    for index, at in enumerate(flow.sample.tolist()):
        states = Counter(ref.state_at(rows, at).values())
        assert flow.counts[index].tolist() == [states.get(s, 0) for s in STATE_VALUES]
        assert wip.counts[index] == states["in_progress"] + states["blocked"]
        assert sorted(wip.items_at(index)) == sorted(
            item
            for item, state in ref.state_at(rows, at).items()
            if state in ("in_progress", "blocked")
        )
    assert flow.sample[-1] == now


@given(
    histories(), st.lists(st.sampled_from([0, 10, 50, 85, 95, 99.9, 100]), min_size=1, unique=True)
)
def test_summary_by_provider_matches_the_reference(
    history: History, percentiles: list[float]
) -> None:
    columns, now = history
    result = metrics.cycle_time(frame_of(columns), now=now)
    summary = metrics.summarize(result, by=["provider"], percentiles=percentiles)
    rows = as_rows(columns)
    provider = ref.provider_of(rows, now)
    groups: dict[str | None, list[tuple[str, int]]] = defaultdict(list)
    for item, (start, end) in ref.cycle_times(
        rows, now, start={"in_progress", "blocked"}, end={"done"}, reopened="span"
    ).items():
        groups[provider[item]].append((item, end - start))
    assert sorted(summary.keys["provider"].labels(), key=str) == sorted(groups, key=str)
    for index, label in enumerate(summary.keys["provider"].labels()):
        values = [value for _, value in groups[label]]
        assert summary.count[index] == len(values)
        assert summary.minimum[index] == min(values)
        assert summary.maximum[index] == max(values)
        assert summary.mean[index] == pytest.approx(sum(values) / len(values), rel=1e-12)
        for q in percentiles:
            assert summary.percentiles[float(q)][index] == ref.percentile(values, q)
        assert sorted(summary.items(index)) == sorted(item for item, _ in groups[label])
        assert summary.find({"provider": label}) == index


@given(histories())
def test_summary_of_time_blocked_adds_up_each_items_rows(history: History) -> None:
    columns, now = history
    blocked = metrics.time_in_state(
        frame_of(columns), now=now, states=["blocked"], by=["owner", "reason"]
    )
    summary = metrics.summarize(blocked, by=["owner"], percentiles=[50])
    per_item: dict[tuple[object, object], int] = defaultdict(int)
    for (item, state, owner, _), (total, _) in ref.time_in_states(
        as_rows(columns), now, split=("owner", "reason")
    ).items():
        if state == "blocked":
            per_item[(owner, item)] += total
    for index, owner in enumerate(summary.keys["owner"].labels()):
        values = [total for (who, _), total in per_item.items() if who == owner]
        assert summary.count[index] == len(values)
        assert summary.percentiles[50.0][index] == ref.percentile(values, 50)
    assert sum(summary.count) == len(per_item)


@given(histories(), st.sampled_from([50, 85]), st.sampled_from(["day", "week"]))
def test_trend_matches_the_reference(history: History, q: int, freq: str) -> None:
    columns, now = history
    result = metrics.cycle_time(frame_of(columns), now=now)
    found = metrics.trend(result, q=q, freq=freq, tz="Europe/Paris")
    by_period: dict[str, list[int]] = defaultdict(list)
    for end, duration in zip(result.end.tolist(), result.duration.tolist(), strict=True):
        by_period[ref.local_period(end, freq=freq, tz="Europe/Paris")].append(duration)
    for label, count, value in zip(
        found.periods.labels, found.count.tolist(), found.value.tolist(), strict=True
    ):
        values = by_period.get(str(label), [])
        assert count == len(values)
        expected = ref.percentile(values, q) if values else np.iinfo(np.int64).min
        assert value == expected


@given(st.lists(st.integers(0, 10**15), min_size=1), st.floats(0, 100))
def test_nearest_rank_matches_the_reference_and_numpy(values: list[int], q: float) -> None:
    expected = ref.percentile(values, q)
    assert metrics.nearest_rank(np.array(values, dtype=np.int64), q) == expected
    assert expected in values


@given(st.lists(st.integers(0, 10**6), min_size=1), st.sampled_from([0, 1, 50, 85, 95, 100]))
def test_nearest_rank_is_numpys_inverted_cdf(values: list[int], q: int) -> None:
    numpy_value = np.percentile(np.array(values), q, method="inverted_cdf")
    assert metrics.nearest_rank(np.array(values), q) == numpy_value


@given(histories(), st.randoms(use_true_random=False))
def test_rows_may_arrive_in_any_order_ties_keep_recorded_order(
    history: History, random: object
) -> None:
    columns, _ = history
    count = len(columns["item"])
    order = list(range(count))
    random.shuffle(order)  # type: ignore[attr-defined]
    # Keep the recorded order of rows that tie (same item and time): sort the shuffled positions of
    # each tie group back into their original order.
    groups: dict[tuple[object, object], list[int]] = defaultdict(list)
    for position in order:
        groups[(columns["item"][position], columns["time"][position])].append(position)
    slots: dict[tuple[object, object], list[int]] = {k: sorted(v) for k, v in groups.items()}
    shuffled = [slots[(columns["item"][p], columns["time"][p])].pop(0) for p in order]
    moved = {name: [values[p] for p in shuffled] for name, values in columns.items()}
    first, second = frame_of(columns), frame_of(moved)
    for name in ("item", "time", "state", "owner", "reason"):
        assert getattr(first, name).tolist() == getattr(second, name).tolist()
    assert first.items.tolist() == second.items.tolist()
    assert np.array(shuffled)[second.position].tolist() == first.position.tolist()
