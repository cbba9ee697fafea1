"""Reading times of event files: fixed-width formats and zones, against the standard library."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicedelivery.errors import ValidationError
from servicedelivery.report import SourceSpec
from servicedelivery.report._sources import instants

FORMATS = ("%d-%m-%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%m.%d.%Y %H%M", "%Y%m%d%H%M%S")
ZONES = ("Europe/Paris", "America/New_York", "Australia/Lord_Howe", "UTC", "Asia/Kolkata")


def _reference(local: dt.datetime, zone: str) -> int | None:
    """The instant of a local time by zoneinfo (the first one in a fold); None in a gap."""
    aware = local.replace(tzinfo=zoneinfo.ZoneInfo(zone), fold=0)
    utc = aware.astimezone(dt.UTC)
    if utc.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None) != local:
        return None  # the clock never shows this time: a gap
    return int(utc.timestamp()) * 10**9


@settings(deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31)),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(FORMATS),
    st.sampled_from(ZONES),
)
def test_fixed_width_local_times_read_as_the_standard_library_reads_them(
    times: list[dt.datetime], time_format: str, zone: str
) -> None:
    # Keep the precision the format has, and times that exist in the zone.
    precision = {"%S": 1} if "%S" in time_format else {"%M": 60}
    step = next(iter(precision.values()))
    local = [t.replace(microsecond=0, second=0 if step == 60 else t.second) for t in times]
    expected = [_reference(t, zone) for t in local]
    kept = [t for t, e in zip(local, expected, strict=True) if e is not None]
    if not kept:
        return
    values = np.array([t.strftime(time_format) for t in kept], dtype=object)
    spec = SourceSpec(time_format=time_format, timezone=zone)
    found = instants(values, spec)
    assert found.tolist() == [e for e in expected if e is not None]


def test_a_local_time_in_a_gap_is_the_instant_the_gap_ends() -> None:
    spec = SourceSpec(time_format="%d-%m-%Y %H:%M", timezone="Europe/Paris")
    values = np.array(["31-03-2024 02:30", "27-10-2024 02:30", None], dtype=object)
    found = instants(values, spec)
    gap_end = int(dt.datetime(2024, 3, 31, 1, tzinfo=dt.UTC).timestamp()) * 10**9
    first_of_fold = int(dt.datetime(2024, 10, 27, 0, 30, tzinfo=dt.UTC).timestamp()) * 10**9
    assert found.tolist() == [gap_end, first_of_fold, np.iinfo(np.int64).min]


def test_times_that_do_not_fit_the_format_are_named() -> None:
    spec = SourceSpec(time_format="%d-%m-%Y %H:%M", timezone="UTC")
    with pytest.raises(ValidationError, match="'2024-03-31 02:30:00'"):
        instants(np.array(["31-03-2024 02:30", "2024-03-31 02:30:00"], dtype=object), spec)
    with pytest.raises(ValidationError, match="'31-13-2024 02:30'"):
        instants(np.array(["31-13-2024 02:30"], dtype=object), spec)
    with pytest.raises(ValidationError, match="all with a UTC offset or all without"):
        instants(
            np.array(["2024-03-31T02:30:00Z", "2024-03-31T02:30:00"], dtype=object),
            SourceSpec(timezone="UTC"),
        )
