"""SLA definitions: read from data, written back unchanged, and refused when they contradict themselves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import DefinitionError
from servicedelivery.lifecycle import Lifecycle
from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    NS_PER_HOUR,
    NS_PER_MINUTE,
    NS_PER_SECOND,
    BlockedReason,
    MilestoneState,
    Owner,
)
from servicedelivery.sla import DEFAULT_STAGES, SLA, Condition, Reopening, Stage
from servicedelivery.sla._durations import format_duration, parse_duration
from servicedelivery.testing import slas

RESTORE: dict[str, Any] = {
    "name": "p1_restore",
    "target": "8h",
    "calendar": "item",
    "start": {"state": ["planned", "in_progress", "blocked"]},
    "pause": {"state": "blocked", "owner": "customer"},
    "stop": {"state": "done"},
    "cancel": {"state": "cancelled"},
}


def problems(data: dict[str, Any], **context: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        SLA.from_data(data, **context)
    return [(error.path, error.expected) for error in caught.value.errors]


def test_an_sla_reads_from_data_with_its_defaults() -> None:
    sla = SLA.from_data(RESTORE)
    assert sla.name == "p1_restore"
    assert sla.target_ns == 8 * NS_PER_HOUR
    assert sla.calendar == "item"
    assert sla.start == Condition(
        states=(MilestoneState.PLANNED, MilestoneState.IN_PROGRESS, MilestoneState.BLOCKED)
    )
    assert sla.pause == Condition(states=(MilestoneState.BLOCKED,), owners=(Owner.CUSTOMER,))
    assert sla.stop == Condition(states=(MilestoneState.DONE,))
    assert sla.cancel == Condition(states=(MilestoneState.CANCELLED,))
    assert sla.stages == DEFAULT_STAGES
    assert sla.reopened is Reopening.CONTINUE
    assert [stage.name for stage in sla.stages] == [
        "at_risk_50",
        "at_risk_75",
        "at_risk_90",
        "breached",
    ]


@given(slas(attributes={"step": ("survey", "install")}))
def test_every_sla_round_trips_through_data_and_json(sla: SLA) -> None:
    assert SLA.from_data(sla.to_data()) == sla
    assert SLA.from_json(json.dumps(sla.to_data())) == sla
    assert SLA.from_data(sla.to_data()).to_data() == sla.to_data()


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("8h", 8 * NS_PER_HOUR),
        ("1h30m", 90 * NS_PER_MINUTE),
        ("1h 30m", 90 * NS_PER_MINUTE),
        ("90m", 90 * NS_PER_MINUTE),
        ("2d", 48 * NS_PER_HOUR),
        ("1w", 168 * NS_PER_HOUR),
        ("45s", 45 * NS_PER_SECOND),
        ("1.5s", 1_500_000_000),
        ("0.000000001s", 1),
        ("PT8H", 8 * NS_PER_HOUR),
        ("P1DT2H30M", 26 * NS_PER_HOUR + 30 * NS_PER_MINUTE),
        ("pt0.25s", 250_000_000),
        ("P2W", 336 * NS_PER_HOUR),
    ],
)
def test_durations_are_read_from_short_and_iso_text(text: str, ns: int) -> None:
    assert parse_duration(text) == ns
    assert parse_duration(format_duration(ns)) == ns


@pytest.mark.parametrize(
    "text", ["", "8", "h", "8 hours", "P1M", "P1Y", "PT", "P1DT", "-8h", "8h30", "1.5h", 8, None]
)
def test_what_is_not_a_duration_is_refused(text: object) -> None:
    assert parse_duration(text) is None


def test_durations_are_written_in_hours_so_that_nobody_reads_days_as_business_days() -> None:
    assert format_duration(80 * NS_PER_HOUR) == "80h"
    assert format_duration(90 * NS_PER_MINUTE + 1) == "1h30m0.000000001s"
    assert SLA.from_data({**RESTORE, "target": "10d"}).to_data()["target"] == "240h"


def test_a_start_that_is_also_a_stop_is_refused_with_why() -> None:
    found = problems({**RESTORE, "stop": {"state": ["done", "in_progress"]}})
    assert found == [
        (
            "stop",
            "a stop condition that matches no episode the start condition matches; both match "
            "in_progress episodes: the clock would start and stop on the same episode",
        )
    ]


def test_a_pause_that_matches_the_stop_is_refused() -> None:
    found = problems({**RESTORE, "stop": {"state": ["done", "blocked"], "owner": "customer"}})
    paths = [path for path, _ in found]
    assert "stop" in paths
    assert any("paused and stopped on the same episode" in why for _, why in found)
    assert any("blocked episodes owned by customer" in why for _, why in found)


def test_a_pause_that_could_never_end_is_refused() -> None:
    found = problems(
        {**RESTORE, "pause": {"state": "cancelled"}, "cancel": None, "stop": {"state": "done"}}
    )
    assert (
        "pause",
        "a pause that matches no episode in 'cancelled': it is a terminal state of lifecycle "
        "'default', so a clock paused there could never resume",
    ) in found
    assert any(path == "stop" and "would never stop" in why for path, why in found)


def test_owners_on_a_condition_without_the_blocked_state_could_never_match() -> None:
    found = problems({**RESTORE, "pause": {"state": "planned", "owner": "customer"}})
    assert found == [
        (
            "pause",
            "a condition that can match: it names owners or reasons, which only blocked episodes "
            "have, but not the blocked state",
        )
    ]


def test_stages_must_increase_within_the_target() -> None:
    found = problems(
        {
            **RESTORE,
            "stages": [
                {"name": "late", "at": 0.8},
                {"name": "early", "at": 0.5},
                {"name": "over", "at": 1.5},
                {"name": "none", "at": 0},
                {"name": "late", "at": 0.9},
            ],
        }
    )
    assert ("stages[1].at", "a fraction greater than stages[0].at (0.8): stages are listed in "
            "the order a clock reaches them") in found  # fmt: skip
    assert ("stages[2].at", "a fraction of the target in (0, 1], such as 0.75") in found
    assert ("stages[3].at", "a fraction of the target in (0, 1], such as 0.75") in found
    assert ("stages[4].name", "a name not already used by stages[0]") in found


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = problems(
        {
            "name": " spaced ",
            "target": "soon",
            "start": {"state": ["in_progres"]},
            "pause": {"state": "blocked", "owner": "nobody", "reason": "weather"},
            "stop": {"state": "done", "colour": "red"},
            "reopened": "sometimes",
            "calendar": 5,
        }
    )
    paths = [path for path, _ in found]
    assert paths == [
        "name",
        "target",
        "calendar",
        "start.state[0]",
        "stop.colour",
        "pause.owner",
        "pause.reason",
        "reopened",
    ]


LONGEST = "a duration > 0 and at most 292 years (2**63 - 1 ns)"


def test_a_target_of_nothing_is_refused() -> None:
    assert problems({**RESTORE, "target": "0m"}) == [("target", LONGEST)]
    with pytest.raises(DefinitionError, match="target_ns"):
        SLA(
            name="x",
            target_ns=0,
            start=Condition(states=(MilestoneState.IN_PROGRESS,)),
            stop=Condition(states=(MilestoneState.DONE,)),
        )


def test_the_constructor_refuses_contradictions_too() -> None:
    with pytest.raises(DefinitionError, match="start and stop on the same episode"):
        SLA(
            name="x",
            target_ns=NS_PER_HOUR,
            start=Condition(),
            stop=Condition(states=(MilestoneState.DONE,)),
        )


def test_reasons_come_from_the_taxonomy() -> None:
    found = problems({**RESTORE, "pause": {"state": "blocked", "reason": "weather"}})
    assert found[0][0] == "pause.reason"
    assert found[0][1].startswith("a reason code of the taxonomy (site_access, ")
    weather = DEFAULT_TAXONOMY.extended(
        BlockedReason(code="weather", label="Weather", owner=Owner.PROVIDER)
    )
    sla = SLA.from_data(
        {**RESTORE, "pause": {"state": "blocked", "reason": "weather"}}, taxonomy=weather
    )
    assert sla.pause == Condition(states=(MilestoneState.BLOCKED,), reasons=("weather",))


def test_the_calendar_must_be_one_of_the_set_when_it_is_given() -> None:
    office = BusinessCalendar.twenty_four_seven(name="office")
    calendars = CalendarSet(default=office)
    assert (
        SLA.from_data({**RESTORE, "calendar": "office"}, calendars=calendars).calendar == "office"
    )
    assert SLA.from_data(RESTORE, calendars=calendars).calendar == "item"
    assert problems({**RESTORE, "calendar": "uk"}, calendars=calendars) == [
        ("calendar", "'item' (each item's own calendar) or the name of a calendar of the set ('office')")
    ]  # fmt: skip
    named_item = CalendarSet(default=BusinessCalendar.twenty_four_seven(name="item"))
    assert problems(RESTORE, calendars=named_item)[0][0] == "calendar"
    # Without calendars to check against, any name is accepted (it is checked when used).
    assert SLA.from_data({**RESTORE, "calendar": "uk"}).calendar == "uk"


CUSTOM = Lifecycle.from_data(
    {
        "name": "desk",
        "initial": "new",
        "states": [
            {"name": "new", "category": "planned"},
            {"name": "working", "category": "in_progress"},
            {"name": "testing", "category": "in_progress"},
            {"name": "waiting", "category": "blocked"},
            {"name": "resolved", "category": "done", "terminal": True},
            {"name": "dropped", "category": "cancelled", "terminal": True},
        ],
        "transitions": [
            {"trigger": "take", "sources": "new", "dest": "working"},
            {"trigger": "test", "sources": "working", "dest": "testing"},
            {
                "trigger": "wait",
                "sources": ["working", "testing"],
                "dest": "waiting",
                "guards": ["needs_reason", "needs_owner"],
            },
            {"trigger": "resume", "sources": "waiting", "dest": "working"},
            {"trigger": "resolve", "sources": "testing", "dest": "resolved"},
            {"trigger": "drop", "sources": ["new", "working", "waiting"], "dest": "dropped"},
        ],
    }
)


def test_a_lifecycle_state_alone_in_its_canonical_state_may_be_named() -> None:
    sla = SLA.from_data(
        {
            "name": "desk",
            "target": "4h",
            "start": {"state": ["new", "in_progress", "waiting"]},
            "pause": {"state": "waiting", "owner": "customer"},
            "stop": {"state": "resolved"},
            "cancel": {"state": "dropped"},
        },
        lifecycle=CUSTOM,
    )
    assert sla.stop == Condition(states=(MilestoneState.DONE,))
    assert sla.start.states == (
        MilestoneState.PLANNED,
        MilestoneState.IN_PROGRESS,
        MilestoneState.BLOCKED,
    )


def test_a_lifecycle_state_that_shares_its_canonical_state_is_refused_with_why() -> None:
    found = problems(
        {
            "name": "desk",
            "target": "4h",
            "start": {"state": "working"},
            "stop": {"state": "resolved"},
            "cancel": {"state": "dropped"},
        },
        lifecycle=CUSTOM,
    )
    assert found == [
        (
            "start.state",
            "a state a clock can tell apart: lifecycle 'desk' puts 'working', 'testing' in the "
            "canonical state 'in_progress', and frames record canonical states; name 'in_progress'",
        )
    ]


def test_the_lifecycle_decides_which_states_are_terminal() -> None:
    # In the custom lifecycle done is terminal: a pause there could never end.
    data = {
        "name": "desk",
        "target": "4h",
        "start": {"state": "planned"},
        "pause": {"state": ["in_progress", "done"]},
        "stop": {"state": "cancelled"},
    }
    found = problems(data, lifecycle=CUSTOM)
    assert [path for path, _ in found] == ["pause", "stop"]
    assert "'done': it is a terminal state of lifecycle 'desk'" in found[0][1]
    # Under the default lifecycle done can be reopened; cancelled stops the clock: accepted.
    assert SLA.from_data(data).pause == Condition(
        states=(MilestoneState.IN_PROGRESS, MilestoneState.DONE)
    )


def test_stage_thresholds_are_exact_decimals_of_the_target() -> None:
    assert Stage("late", 0.9).threshold_ns(8 * NS_PER_HOUR) == 25_920 * NS_PER_SECOND
    assert Stage("third", 0.33).threshold_ns(100) == 33
    assert Stage("end", 1.0).threshold_ns(7) == 7
    assert Stage("half", 0.5).threshold_ns(3) == 1


@given(st.sampled_from(["first", "continue", "restart"]))
def test_reopened_work_options_read_as_their_enum(value: str) -> None:
    assert SLA.from_data({**RESTORE, "reopened": value}).reopened is Reopening(value)


def test_conditions_overlap_only_where_an_episode_could_match_both() -> None:
    blocked_customer = Condition(states=(MilestoneState.BLOCKED,), owners=(Owner.CUSTOMER,))
    blocked_provider = Condition(owners=(Owner.PROVIDER,))
    assert blocked_customer.overlap(blocked_provider) is None
    assert blocked_customer.overlap(Condition()) == blocked_customer
    step = Condition(attributes={"step": ("survey",)})
    other_step = Condition(attributes={"step": ("install",)})
    assert step.overlap(other_step) is None
    assert step.overlap(Condition(attributes={"region": ("eu",)})) == Condition(
        attributes={"step": ("survey",), "region": ("eu",)}
    )
    assert Condition(states=(MilestoneState.DONE,)).covers(MilestoneState.DONE)
    assert not step.covers(MilestoneState.DONE)


def test_a_target_no_clock_can_count_to_is_refused() -> None:
    # int64 ns end after 292 years: a longer target could not be compared with counted time.
    assert problems({**RESTORE, "target": "15251w"}) == [("target", LONGEST)]
    assert SLA.from_data({**RESTORE, "target": "15250w"}).target_ns == 15250 * 7 * 24 * 3600 * 10**9
    with pytest.raises(DefinitionError, match="target_ns"):
        SLA(
            name="x",
            target_ns=2**63,
            start=Condition(states=(MilestoneState.IN_PROGRESS,)),
            stop=Condition(states=(MilestoneState.DONE,)),
        )
