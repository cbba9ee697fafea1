"""Flow metrics on a synthetic delivery log: numpy against idiomatic pandas, in the same run.

Four answers, from the same sorted columns: cycle time, time blocked by owner, work item age at now,
and p50/p85/p95 of cycle time by provider x region x step. Building the frame (sorting, coding) and
its pandas counterpart happen outside the timed region and are timed on their own. Both sides are
checked to give the same answers before they are timed.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._harness import Result, best_of, peak_bytes
from servicedelivery.metrics import (
    EventFrame,
    cycle_time,
    episodes,
    summarize,
    time_in_state,
    work_item_age,
)
from servicedelivery.synthetic import synthetic_event_columns

BY = ["provider", "region", "step"]
PERCENTILES = (50, 85, 95)
PLANNED, IN_PROGRESS, BLOCKED, DONE = 0, 1, 2, 3


def numpy_metrics(frame: EventFrame, now: int) -> dict[str, Any]:
    found = episodes(frame, now=now)
    cycle = cycle_time(found)
    return {
        "cycle": cycle,
        "blocked": time_in_state(found, states=["blocked"], by=["owner"]),
        "age": work_item_age(found),
        "summary": summarize(cycle, by=BY, percentiles=PERCENTILES),
    }


def pandas_frame(columns: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same events as a pandas DataFrame sorted by item and time, and attributes per item."""
    data = pd.DataFrame(
        {
            "item": columns["item"].codes,
            "time": columns["time"].view("M8[ns]"),
            "state": columns["state"],
            "owner": columns["owner"],
            "reason": columns["reason"],
        }
    )
    for name in BY:
        data[name] = pd.Categorical.from_codes(columns[name].codes, columns[name].categories)
    data = data.sort_values(["item", "time"], kind="stable", ignore_index=True)
    attributes = data.groupby("item")[BY].last()
    return data.drop(columns=BY), attributes


def pandas_metrics(data: pd.DataFrame, attributes: pd.DataFrame, now: int) -> dict[str, Any]:
    at = pd.Timestamp(now)
    item = data["item"]
    changed = (
        item.ne(item.shift())
        | data["state"].ne(data["state"].shift())
        | data["owner"].ne(data["owner"].shift())
        | data["reason"].ne(data["reason"].shift())
    )
    eps = data.loc[changed]
    end = eps.groupby("item")["time"].shift(-1).fillna(at)
    duration = end - eps["time"]
    state = eps["state"]
    first_start = eps.loc[state.isin([IN_PROGRESS, BLOCKED, DONE])].groupby("item")["time"].first()
    done = state.eq(DONE)
    entered = done & ~done.groupby(eps["item"]).shift(fill_value=False)
    final_entry = eps.loc[entered].groupby("item")["time"].last()
    last_state = state.groupby(eps["item"]).last()
    closed = last_state.index[last_state.eq(DONE)]
    cycle = final_entry.reindex(closed) - first_start.reindex(closed)
    blocked = (
        duration[state.eq(BLOCKED)]
        .groupby([eps["item"][state.eq(BLOCKED)], eps["owner"][state.eq(BLOCKED)]])
        .sum()
    )
    open_items = last_state.index[last_state.isin([PLANNED, IN_PROGRESS, BLOCKED])]
    age = (at - first_start.reindex(open_items)).dropna()
    table = attributes.loc[closed].assign(cycle=cycle.to_numpy()).sort_values("cycle")
    grouped = table.groupby(BY, observed=True)["cycle"]
    rank = grouped.cumcount()
    size = grouped.transform("size")
    percentiles = {}
    for q in PERCENTILES:
        wanted = np.maximum(np.ceil(q * size / 100), 1) - 1
        percentiles[q] = table.loc[rank.eq(wanted), [*BY, "cycle"]].set_index(BY)["cycle"]
    return {"cycle": cycle, "blocked": blocked, "age": age, "percentiles": percentiles}


def same_answers(ours: dict[str, Any], theirs: dict[str, Any], frame: EventFrame) -> None:
    cycle = ours["cycle"]
    expected = theirs["cycle"]
    assert frame.items[cycle.item].tolist() == expected.index.tolist()
    assert (cycle.duration == expected.to_numpy().view(np.int64)).all()
    blocked = ours["blocked"]
    order = np.lexsort((blocked.owner, blocked.item))
    assert (
        frame.items[blocked.item[order]].tolist()
        == theirs["blocked"].index.get_level_values(0).tolist()
    )
    assert (blocked.duration[order] == theirs["blocked"].to_numpy().view(np.int64)).all()
    age = ours["age"]
    assert frame.items[age.item].tolist() == theirs["age"].index.tolist()
    assert (age.duration == theirs["age"].to_numpy().view(np.int64)).all()
    summary = ours["summary"]
    labels = list(zip(*(summary.keys[name].labels() for name in BY), strict=True))
    for q in PERCENTILES:
        series = theirs["percentiles"][q]
        mine = dict(zip(labels, summary.percentiles[float(q)].tolist(), strict=True))
        assert mine == dict(
            zip(series.index, series.to_numpy().view(np.int64).tolist(), strict=True)
        )


def run(*, quick: bool) -> list[Result]:
    results = []
    for events in [1_000_000] if quick else [1_000_000, 10_000_000]:
        results.extend(measure(events))
    return results


def measure(events: int) -> list[Result]:
    start = time.perf_counter()
    columns = synthetic_event_columns(events=events, seed=2026)
    generated = time.perf_counter() - start
    now = columns.pop("now")
    raw = sum(
        column.codes.nbytes if hasattr(column, "codes") else column.nbytes
        for column in columns.values()
    )
    start = time.perf_counter()
    frame = EventFrame.from_columns(columns, owner="owner", reason="reason", attributes=BY)
    built = time.perf_counter() - start
    start = time.perf_counter()
    data, attributes = pandas_frame(columns)
    built_pandas = time.perf_counter() - start
    del columns

    same_answers(numpy_metrics(frame, now), pandas_metrics(data, attributes, now), frame)
    fast = best_of(lambda: numpy_metrics(frame, now), repeat=3)
    slow = best_of(lambda: pandas_metrics(data, attributes, now), repeat=1 if events > 10**6 else 2)
    peak = peak_bytes(lambda: numpy_metrics(frame, now))
    label = f"{events / 1e6:g}M events"
    return [
        Result(
            f"synthetic log, {label} ({frame.item_count:,} milestones)",
            generated,
            items=events,
            unit="events",
            extra={"frame build": f"{built:.2f}s", "pandas build": f"{built_pandas:.2f}s"},
        ),
        Result(
            f"4 metrics, numpy, {label}",
            fast,
            items=events,
            unit="events",
            reference="idiomatic pandas",
            reference_seconds=slow,
            aim=">= 5x pandas at 10M" if events >= 10**7 else "",
            extra={
                "pandas": f"{slow:.2f}s",
                "peak/raw columns": f"{peak / raw:.2f}x (aim <= 3x)",
                "raw": f"{raw / 2**20:,.0f} MiB",
            },
        ),
    ]
