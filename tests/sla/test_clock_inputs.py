"""Both clock paths refuse bad input the same way, naming every problem; edge cases of the frame."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import ValidationError
from servicedelivery.metrics import EventFrame
from servicedelivery.model import BlockedReason, Owner, Taxonomy
from servicedelivery.sla import SLA, sla_clock, sla_clocks

OFFICE = BusinessCalendar.twenty_four_seven(name="office")
FRAME = EventFrame.from_columns(
    {"item": ["m1", "m1"], "time": [0, 10**12], "state": ["in_progress", "done"]}
)
ELAPSED = SLA.from_data(
    {
        "name": "elapsed",
        "target": "1h",
        "start": {"state": "in_progress"},
        "stop": {"state": "done"},
        "cancel": {"state": "cancelled"},
    }
)
WORKING = SLA.from_data({**ELAPSED.to_data(), "name": "working", "calendar": "office"})

Clocks = Callable[..., Any]


def all_items(sla: object, frame: object, *, now: object, calendars: object = None) -> object:
    return sla_clocks(sla, frame, now=now, calendars=calendars)  # type: ignore[arg-type]


def one_item(sla: object, frame: object, *, now: object, calendars: object = None) -> object:
    return sla_clock(sla, frame, "m1", now=now, calendars=calendars)  # type: ignore[arg-type]


PATHS = pytest.mark.parametrize("compute", [all_items, one_item], ids=["sla_clocks", "sla_clock"])


def paths(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [problem.path for problem in error.value.errors]


@PATHS
@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"sla": ELAPSED.to_data()}, "sla"),
        ({"frame": "events.csv"}, "frame"),
        ({"now": dt.datetime(2024, 1, 1)}, "now"),
        ({"sla": WORKING}, "calendars"),  # counts working time, but no calendars given
        ({"sla": WORKING, "calendars": "office"}, "calendars"),
        (
            {
                "sla": WORKING,
                "calendars": CalendarSet(default=BusinessCalendar.twenty_four_seven(name="other")),
            },
            "calendars",
        ),
    ],
)
def test_bad_input_is_refused_with_its_path(
    compute: Clocks, arguments: dict[str, Any], path: str
) -> None:
    given = {"sla": ELAPSED, "frame": FRAME, "now": 10**12, "calendars": None, **arguments}
    with pytest.raises(ValidationError) as error:
        compute(given.pop("sla"), given.pop("frame"), **given)
    assert paths(error) == [path]


@PATHS
def test_conditions_the_frame_cannot_answer_are_all_listed(compute: Clocks) -> None:
    taxonomy = Taxonomy((BlockedReason("weather", "Weather", Owner.PROVIDER),))
    sla = SLA.from_data(
        {
            **ELAPSED.to_data(),
            "pause": {"state": "blocked", "reason": ["weather"], "attributes": {"step": "survey"}},
        },
        taxonomy=taxonomy,
    )
    with pytest.raises(ValidationError) as error:
        compute(sla, FRAME, now=10**12)
    assert paths(error) == ["sla.pause.reasons[0]", "sla.pause.attributes"]
    assert "weather" in str(error.value)
    assert "step" in str(error.value)


def test_one_item_that_is_not_in_the_frame_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        sla_clock(ELAPSED, FRAME, "m2", now=10**12)
    assert "m2" in str(error.value)


def test_an_empty_frame_has_no_clocks() -> None:
    empty = EventFrame.from_columns({"item": [], "time": [], "state": []})
    clocks = sla_clocks(ELAPSED, empty, now=0)
    assert len(clocks) == 0
    assert clocks.stage_ns.shape == (0, len(ELAPSED.stages))
    assert clocks.paused_by_owner.shape[0] == 0


def test_items_whose_events_all_come_later_have_not_started() -> None:
    clocks = sla_clocks(ELAPSED, FRAME, now=-1)
    assert clocks.started.tolist() == [False]
    assert clocks.breach_ns.tolist() == [np.iinfo(np.int64).min]
    assert (clocks.met.tolist(), clocks.stage.tolist()) == ([-1], [-1])
    assert sla_clock(ELAPSED, FRAME, "m1", now=-1) == clocks.clock("m1")


@PATHS
@pytest.mark.parametrize("calendar", [None, "office"])
def test_a_breach_instant_past_what_time_can_hold_is_refused(
    compute: Clocks, calendar: str | None
) -> None:
    # 292 years from 1970 fit in int64 ns; from 2024, they end past 2262 (and past 2150 under a
    # calendar): refused, never wrapped around.
    sla = SLA.from_data({**ELAPSED.to_data(), "target": "15250w", "calendar": calendar})
    frame = EventFrame.from_columns(
        {"item": ["m1"], "time": ["2024-06-10T09:00:00+00:00"], "state": ["in_progress"]}
    )
    with pytest.raises(ValidationError) as error:
        compute(sla, frame, now=frame.time[0] + 1, calendars=CalendarSet(default=OFFICE))
    assert paths(error) == ["work[0]"]
    # The same target is fine for a clock that starts early enough (elapsed time only).
    if calendar is None:
        early = EventFrame.from_columns({"item": ["m1"], "time": [0], "state": ["in_progress"]})
        clocks = sla_clocks(sla, early, now=1)
        assert clocks.breach_ns.tolist() == [sla.target_ns]
