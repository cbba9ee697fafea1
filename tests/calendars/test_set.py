"""Calendar sets: the site > region > default chain, in bulk and for one item, and per-element
operations."""

from __future__ import annotations

import datetime as dt
import json
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.calendars import BusinessCalendar, CalendarSet, Weekday, WorkingHours
from servicedelivery.errors import DefinitionError, ValidationError
from servicedelivery.model import NS_PER_DAY, NS_PER_HOUR, to_epoch_ns
from servicedelivery.testing import business_calendars
from tests.calendars.reference import affordable_work

LOW = to_epoch_ns(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
HIGH = to_epoch_ns(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
SITES = ("S-1", "S-2", "S-3", "S-4")
REGIONS = ("emea", "amer", "apac")


def office(name: str, timezone: str) -> BusinessCalendar:
    nine_to_five = (WorkingHours.parse("09:00-17:00"),)
    return BusinessCalendar(
        name=name,
        timezone=timezone,
        hours=dict.fromkeys(list(Weekday)[:5], nine_to_five),
    )


PARIS = office("paris", "Europe/Paris")
NEW_YORK = office("new-york", "America/New_York")
ALWAYS = BusinessCalendar.twenty_four_seven()


@pytest.fixture
def calendars() -> CalendarSet:
    return CalendarSet(
        default=PARIS,
        by_region={"amer": NEW_YORK, "apac": ALWAYS},
        by_site={"S-2": PARIS, "S-3": ALWAYS},
    )


def test_the_chain_for_one_item(calendars: CalendarSet) -> None:
    assert calendars.calendars == (PARIS, NEW_YORK, ALWAYS)
    assert calendars.calendar_for(site="S-3", region="amer") is ALWAYS
    assert calendars.calendar_for(site="S-9", region="amer") is NEW_YORK
    assert calendars.calendar_for(site="S-2", region="amer") is PARIS
    assert calendars.calendar_for(region="nowhere") is PARIS
    assert calendars.calendar_for() is PARIS
    assert calendars["24x7"] is ALWAYS
    assert calendars.index("new-york") == 1
    with pytest.raises(ValidationError, match="the name of a calendar of the set"):
        calendars.index("tokyo")


labels = st.lists(
    st.tuples(st.sampled_from((*SITES, "S-9", None, "")), st.sampled_from((*REGIONS, "x", None))),
    max_size=30,
)


@given(labels)
def test_bulk_resolution_agrees_with_the_chain_for_one_item(
    rows: list[tuple[str | None, str | None]],
) -> None:
    calendars = CalendarSet(
        default=PARIS,
        by_region={"amer": NEW_YORK, "apac": ALWAYS},
        by_site={"S-2": PARIS, "S-3": ALWAYS},
    )
    sites = [site for site, _ in rows]
    regions = [region for _, region in rows]
    expected = [
        calendars.index(calendars.calendar_for(site=site or None, region=region).name)
        for site, region in rows
    ]
    resolved = calendars.resolve(sites=sites, regions=regions)
    assert resolved.dtype == np.int32
    assert resolved.tolist() == expected
    # The same from categorical columns: codes into dictionaries of names, -1 for none.
    site_names = [*SITES, "S-9"]
    region_names = [*REGIONS, "x"]
    site_codes = [site_names.index(s) if s else -1 for s in sites]
    region_codes = [region_names.index(r) if r else -1 for r in regions]
    from_codes = calendars.resolve_codes(
        site_codes=np.array(site_codes, dtype=np.int32),
        site_names=site_names,
        region_codes=np.array(region_codes, dtype=np.int32),
        region_names=region_names,
    )
    assert from_codes.tolist() == expected


def test_resolution_from_one_column(calendars: CalendarSet) -> None:
    assert calendars.resolve(regions=np.array(["amer", "emea", "apac"])).tolist() == [1, 0, 2]
    assert calendars.resolve(sites=["S-3", "S-1"]).tolist() == [2, 0]
    assert calendars.resolve(sites=[]).tolist() == []


def test_resolution_refuses_bad_columns(calendars: CalendarSet) -> None:
    with pytest.raises(ValidationError, match="at least one column"):
        calendars.resolve()
    with pytest.raises(ValidationError, match="columns of equal length"):
        calendars.resolve(sites=["S-1"], regions=["emea", "amer"])
    with pytest.raises(ValidationError, match="codes and names given together"):
        calendars.resolve_codes(site_codes=[0])
    with pytest.raises(ValidationError) as info:
        calendars.resolve_codes(site_codes=[0, 4, -2], site_names=SITES)
    assert [error.path for error in info.value.errors] == ["site_codes[1]", "site_codes[2]"]


@given(
    st.lists(business_calendars(), min_size=1, max_size=3, unique_by=lambda c: c.name),
    st.data(),
)
def test_per_element_operations_match_each_calendar(
    members: list[BusinessCalendar], data: st.DataObject
) -> None:
    calendars = CalendarSet(
        default=members[0], by_site={f"S-{i}": calendar for i, calendar in enumerate(members)}
    )
    size = data.draw(st.integers(0, 20))
    which = np.array(
        data.draw(st.lists(st.integers(0, len(members) - 1), min_size=size, max_size=size))
    )
    start = np.array(data.draw(st.lists(st.integers(LOW, HIGH), min_size=size, max_size=size)))
    length = np.array(
        data.draw(st.lists(st.integers(0, 20 * NS_PER_DAY), min_size=size, max_size=size))
    )
    index = which.astype(np.int32)
    # As much work as the sparsest calendar drawn surely holds before 2150.
    length = np.minimum(length, min(affordable_work(calendar) for calendar in members))
    worked = calendars.working_ns(start, start + length, calendar=index)
    due = calendars.add_working(start, length, calendar=index)
    working = calendars.is_working(start, calendar=index)
    opening = calendars.next_opening(start, calendar=index)
    closing = calendars.previous_closing(start, calendar=index)
    for i in range(size):
        calendar = members[which[i]]
        assert worked[i] == calendar.working_ns(start[i], start[i] + length[i])
        assert due[i] == calendar.add_working(start[i], length[i])
        assert working[i] == calendar.is_working(start[i])
        assert opening[i] == calendar.next_opening(start[i])
        assert closing[i] == calendar.previous_closing(start[i])
    assert worked.shape == due.shape == working.shape == (size,)
    assert working.dtype == bool


def test_per_element_errors_point_at_the_callers_positions(calendars: CalendarSet) -> None:
    sparse = BusinessCalendar(
        name="sparse", timezone="UTC", hours={Weekday.MONDAY: (WorkingHours.parse("09:00-09:01"),)}
    )
    with_sparse = CalendarSet(default=ALWAYS, by_site={"S-1": sparse})
    late = to_epoch_ns(dt.datetime(2149, 12, 1, tzinfo=dt.UTC))
    with pytest.raises(ValidationError) as info:
        with_sparse.add_working([late] * 4, [NS_PER_HOUR] * 4, calendar=[0, 1, 0, 1])
    assert [error.path for error in info.value.errors] == ["work[1]", "work[3]"]
    with pytest.raises(ValidationError) as info:
        calendars.working_ns([0, 0], [0, 0], calendar=[0, 3])
    assert [error.path for error in info.value.errors] == ["calendar[1]"]
    with pytest.raises(ValidationError, match="broadcast"):
        calendars.is_working([LOW, LOW], calendar=[0, 1, 2])


def test_one_name_one_calendar() -> None:
    impostor = office("paris", "Europe/London")
    with pytest.raises(DefinitionError) as info:
        CalendarSet(default=PARIS, by_region={"emea": impostor, "": PARIS})
    assert [error.path for error in info.value.errors] == [
        "by_region['emea'].name",
        "by_region['']",
    ]
    with pytest.raises(DefinitionError) as info:
        CalendarSet(default="paris", by_site=[])  # type: ignore[arg-type]
    assert [error.path for error in info.value.errors] == ["default", "by_site"]


def test_sets_round_trip_through_data_json_and_pickle(calendars: CalendarSet) -> None:
    data = calendars.to_data()
    assert data["default"] == "paris"
    assert data["by_region"] == {"amer": "new-york", "apac": "24x7"}
    assert [c["name"] for c in data["calendars"]] == ["paris", "new-york", "24x7"]
    assert CalendarSet.from_data(data) == calendars
    assert CalendarSet.from_json(json.dumps(data)) == calendars
    assert pickle.loads(pickle.dumps(calendars)) == calendars


def test_set_data_errors_are_all_listed() -> None:
    paris = PARIS.to_data()
    with pytest.raises(DefinitionError) as info:
        CalendarSet.from_data(
            {
                "calendars": [paris, NEW_YORK.to_data(), ALWAYS.to_data(), paris],
                "default": "paris",
                "by_region": {"amer": "new-york"},
                "extra": 1,
            }
        )
    assert [error.path for error in info.value.errors] == ["extra", "calendars[3].name"]
    with pytest.raises(DefinitionError) as info:
        CalendarSet.from_data(
            {
                "calendars": [paris, NEW_YORK.to_data(), ALWAYS.to_data()],
                "default": "pariss",
                "by_region": {"amer": "new-york"},
                "by_site": {"S-1": "tokyo"},
            }
        )
    assert [error.path for error in info.value.errors] == [
        "default",
        "by_site['S-1']",
        "calendars[0]",
        "calendars[2]",
    ]
    assert "a calendar that the chain uses" in str(info.value)
    with pytest.raises(DefinitionError) as info:
        CalendarSet.from_data({"calendars": [{"name": "x"}], "default": "x"})
    assert [error.path for error in info.value.errors] == [
        "calendars[0].timezone",
        "calendars[0].hours",
    ]
    with pytest.raises(DefinitionError):
        CalendarSet.from_data({"calendars": [], "default": "x", "by_site": []})
    with pytest.raises(DefinitionError):
        CalendarSet.from_json("not json")
