"""Flow metrics over a columnar event frame.

Episodes, cycle and lead time, work item age, time in state by owner and reason, flow efficiency,
throughput, work in progress, cumulative flow, percentile trends, service-level expectations,
summaries with drill-through, and Monte Carlo forecasts. Everything is numpy: no Python loop runs per
event or per item. pandas is optional; every result converts to it with ``to_pandas()``.
"""

from servicedelivery.metrics._categorical import Categorical
from servicedelivery.metrics._durations import (
    ItemDurations,
    cycle_time,
    lead_time,
    time_in_current_state,
    work_item_age,
)
from servicedelivery.metrics._episodes import Episodes, episodes
from servicedelivery.metrics._flow import (
    CumulativeFlow,
    Throughput,
    Trend,
    WorkInProgress,
    cumulative_flow,
    throughput,
    trend,
    work_in_progress,
)
from servicedelivery.metrics._forecast import (
    HowManyForecast,
    WhenForecast,
    forecast_how_many,
    forecast_when,
)
from servicedelivery.metrics._frame import EventFrame
from servicedelivery.metrics._percentiles import nearest_rank
from servicedelivery.metrics._periods import Periods
from servicedelivery.metrics._summary import (
    ServiceLevelExpectation,
    Summary,
    service_level_expectation,
    summarize,
)
from servicedelivery.metrics._time_in_state import (
    FlowEfficiency,
    StateDurations,
    flow_efficiency,
    time_in_state,
)

__all__ = [
    "Categorical",
    "CumulativeFlow",
    "Episodes",
    "EventFrame",
    "FlowEfficiency",
    "HowManyForecast",
    "ItemDurations",
    "Periods",
    "ServiceLevelExpectation",
    "StateDurations",
    "Summary",
    "Throughput",
    "Trend",
    "WhenForecast",
    "WorkInProgress",
    "cumulative_flow",
    "cycle_time",
    "episodes",
    "flow_efficiency",
    "forecast_how_many",
    "forecast_when",
    "lead_time",
    "nearest_rank",
    "service_level_expectation",
    "summarize",
    "throughput",
    "time_in_current_state",
    "time_in_state",
    "trend",
    "work_in_progress",
    "work_item_age",
]
