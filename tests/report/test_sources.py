"""Reading times of event files: fixed-width formats and zones, against the standard library."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicedelivery.errors import MISSING, ValidationError
from servicedelivery.report import SourceSpec, load_source
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


def test_a_json_lines_column_that_first_appears_after_a_hundred_records_is_found(
    tmp_path: Path,
) -> None:
    # Only the records from the 121st on name a team: the column is still one of the source's.
    lines = [
        {"item": f"T{n}", "time": f"2024-05-01T{n % 24:02d}:00:00Z", "state": "in_progress"}
        | ({"team": f"team-{n % 3}"} if n >= 120 else {})
        for n in range(150)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    frame = load_source(path, spec=SourceSpec(attributes={"provider": "team"})).frame
    found = dict(
        zip(frame.items.tolist(), frame.item_attributes["provider"].labels().tolist(), strict=True)
    )
    assert found == {line["item"]: line.get("team") for line in lines}
    with pytest.raises(ValidationError) as absent:
        load_source(path, spec=SourceSpec(attributes={"provider": "colour"}))
    assert [(error.path, error.value) for error in absent.value.errors] == [("colour", MISSING)]
    assert "'team'" in str(absent.value)
