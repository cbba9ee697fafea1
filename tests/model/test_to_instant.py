"""``to_instant`` builds the same instant at the offset in effect as the obvious conversion."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.model import to_epoch_ns
from servicedelivery.model._validation import to_instant
from servicedelivery.testing import TIMEZONES, aware_datetimes

stdlib_instants = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.sampled_from(TIMEZONES).map(zoneinfo.ZoneInfo)
    | st.integers(-14 * 3600, 14 * 3600).map(lambda s: dt.timezone(dt.timedelta(seconds=s))),
    allow_imaginary=False,
)


def reference_to_instant(value: dt.datetime) -> pendulum.DateTime:
    """The obvious conversion: the same instant at a fixed offset, through pendulum.instance."""
    offset = value.utcoffset()
    assert offset is not None
    fixed = value.astimezone(pendulum.FixedTimezone(int(offset.total_seconds())))
    return pendulum.instance(fixed)


@given(aware_datetimes() | stdlib_instants)
def test_to_instant_is_the_same_instant_at_the_offset_in_effect(value: dt.datetime) -> None:
    converted = to_instant(value)
    expected = reference_to_instant(value)
    assert isinstance(converted, pendulum.DateTime)
    # Compared as instants: Python finds a wall time in a DST fold unequal to any other zone's.
    assert converted == expected
    assert to_epoch_ns(converted) == to_epoch_ns(value)
    assert converted.utcoffset() == expected.utcoffset() == value.utcoffset()
    assert converted.isoformat() == expected.isoformat()
    assert type(converted.tzinfo) is type(expected.tzinfo)
    assert (converted.year, converted.hour, converted.minute) == (
        expected.year,
        expected.hour,
        expected.minute,
    )
