"""The portfolio report on a large frame, against pandas computing part of the same figures.

The reference is what a reader would write with pandas for a fraction of the report: each item's
state now, blocked items by owner, reason, provider and region, and cycle-time percentiles by
provider, region and step. The report computes all of that and much more (aging, trends, flow,
blocked time by owner, target dates), so a ratio above 1 means the whole report costs less than
that part of it done the usual way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks._harness import Result, best_of
from servicedelivery.metrics import EventFrame
from servicedelivery.model import STATES
from servicedelivery.report import portfolio_report
from servicedelivery.synthetic import synthetic_event_columns


def run(*, quick: bool) -> list[Result]:
    events = 100_000 if quick else 1_000_000
    columns = synthetic_event_columns(events=events, seed=3)
    now = columns.pop("now")
    frame = EventFrame.from_columns(
        columns, owner="owner", reason="reason", attributes=["provider", "region", "step"]
    )
    data = pd.DataFrame(
        {
            "item": columns["item"].codes,
            "time": columns["time"],
            "state": np.array([s.value for s in STATES], dtype=object)[columns["state"]],
            "owner": columns["owner"],
            "reason": columns["reason"],
            **{name: columns[name].labels() for name in ("provider", "region", "step")},
        }
    )

    def with_pandas() -> None:
        ordered = data.sort_values(["item", "time"], kind="stable")
        last = ordered.groupby("item").tail(1)
        blocked = last[last["state"] == "blocked"]
        for name in ("owner", "reason", "provider", "region"):
            blocked.groupby(name).size()
        started = ordered[ordered["state"].isin(["in_progress", "blocked", "done"])]
        start = started.groupby("item")["time"].first()
        previous = ordered.groupby("item")["state"].shift()
        done = ordered[(ordered["state"] == "done") & (previous != "done")]
        end = done.groupby("item")["time"].last()
        finished = last.loc[last["state"] == "done", "item"]
        cycle = (end.reindex(finished) - start.reindex(finished)).rename("cycle").reset_index()
        attributes = last.set_index("item")[["provider", "region", "step"]]
        cycle = cycle.join(attributes, on="item")
        for name in ("provider", "region", "step"):
            cycle.groupby(name)["cycle"].quantile([0.5, 0.85, 0.95])

    report_seconds = best_of(lambda: portfolio_report(frame, now=now), repeat=2 if quick else 3)
    pandas_seconds = best_of(with_pandas, repeat=1 if quick else 2)
    report = portfolio_report(frame, now=now)
    json_seconds = best_of(report.to_json, repeat=2)
    html_seconds = best_of(report.to_html, repeat=2)
    return [
        Result(
            f"portfolio_report ({events:,} events, {frame.item_count:,} items)",
            report_seconds,
            items=events,
            unit="events",
            reference="pandas for part of its figures",
            reference_seconds=pandas_seconds,
            aim=">= 1x: the whole report for less than part of it in pandas",
        ),
        Result("to_json of that report", json_seconds, aim="well under the report itself"),
        Result("to_html of that report (four plots)", html_seconds, aim="under a second"),
    ]
