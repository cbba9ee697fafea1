from __future__ import annotations

import datetime as dt
import zoneinfo

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.eventlog._instants import (
    instant_at,
    instant_text,
    instant_texts,
    parse_instant,
)
from servicedelivery.model import structure, to_epoch_ns, unstructure
from servicedelivery.model._validation import to_instant
from servicedelivery.testing import TIMEZONES, aware_datetimes

odd_offsets = st.integers(-14 * 3600, 14 * 3600).map(
    lambda seconds: dt.timezone(dt.timedelta(seconds=seconds))
)
stdlib_instants = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.sampled_from(TIMEZONES).map(zoneinfo.ZoneInfo) | odd_offsets,
    allow_imaginary=False,
)


@given(aware_datetimes() | stdlib_instants | aware_datetimes().map(to_instant))
def test_text_and_ns_are_what_the_converter_and_to_epoch_ns_give(instant: dt.datetime) -> None:
    text, ns = instant_text(instant)
    assert text == unstructure(to_instant(instant)) == instant.isoformat()
    assert ns == to_epoch_ns(instant)


@given(aware_datetimes() | stdlib_instants)
def test_parsing_gives_what_the_converter_builds(instant: dt.datetime) -> None:
    text, _ = instant_text(instant)
    parsed = parse_instant(text)
    built = structure(text, pendulum.DateTime)
    assert parsed == built
    assert to_epoch_ns(parsed) == to_epoch_ns(instant)
    assert parsed.utcoffset() == built.utcoffset() == instant.utcoffset()
    assert type(parsed.tzinfo) is type(built.tzinfo)
    assert parsed.isoformat() == text
    assert instant_at(instant) == parsed


fixed_offset_instants = (aware_datetimes() | stdlib_instants).map(to_instant)


@given(
    st.lists(fixed_offset_instants | stdlib_instants, max_size=40)
    | st.lists(fixed_offset_instants, min_size=16, max_size=40)
    | st.lists(aware_datetimes().map(to_instant), min_size=16, max_size=40)
)
def test_many_instants_are_each_instant_text(instants: list[dt.datetime]) -> None:
    texts, ns = instant_texts(instants)
    assert list(zip(texts, ns, strict=True)) == [instant_text(instant) for instant in instants]
