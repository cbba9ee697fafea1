from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given

from servicedelivery.errors import ValidationError
from servicedelivery.model import NS_PER_HOUR, NS_PER_SECOND, from_epoch_ns, to_epoch_ns
from servicedelivery.testing import aware_datetimes


def test_known_values() -> None:
    assert to_epoch_ns(pendulum.datetime(1970, 1, 1, tz="UTC")) == 0
    assert to_epoch_ns(pendulum.datetime(1970, 1, 1, 1, tz="Europe/Paris")) == 0
    assert to_epoch_ns(pendulum.datetime(2024, 1, 1, tz="UTC")) == 1_704_067_200 * NS_PER_SECOND
    assert to_epoch_ns(pendulum.datetime(1969, 12, 31, 23, tz="UTC")) == -NS_PER_HOUR


@given(aware_datetimes())
def test_round_trip_is_exact(when: pendulum.DateTime) -> None:
    ns = to_epoch_ns(when)
    back = from_epoch_ns(ns)
    assert back.timestamp() == when.timestamp()
    assert to_epoch_ns(back) == ns
    assert ns == round(when.timestamp() * 1e6) * 1_000


def test_differences_are_exact_across_dst() -> None:
    start = pendulum.datetime(2024, 3, 30, 12, tz="Europe/Paris")
    end = pendulum.datetime(2024, 3, 31, 12, tz="Europe/Paris")
    assert to_epoch_ns(end) - to_epoch_ns(start) == 23 * NS_PER_HOUR


def test_zone_for_display() -> None:
    shown = from_epoch_ns(0, tz="Asia/Kolkata")
    assert shown.isoformat() == "1970-01-01T05:30:00+05:30"


def test_naive_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        to_epoch_ns(dt.datetime(2024, 1, 1), path="events[3].time")
    assert info.value.errors[0].path == "events[3].time"
