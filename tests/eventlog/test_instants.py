from __future__ import annotations

import datetime as dt
import zoneinfo

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.eventlog._instants import (
    instant_at,
    instant_text,
    instant_texts,
    parse_epoch_ns,
    parse_instant,
    parse_instants,
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


@given(aware_datetimes() | stdlib_instants)
def test_epoch_ns_of_a_text_is_that_of_its_instant(instant: dt.datetime) -> None:
    text, ns = instant_text(instant)
    assert parse_epoch_ns(text) == ns == to_epoch_ns(parse_instant(text))
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_epoch_ns(text[:19])


fixed_offset_instants = (aware_datetimes() | stdlib_instants).map(to_instant)


@given(
    st.lists(fixed_offset_instants | stdlib_instants, max_size=40)
    | st.lists(fixed_offset_instants, min_size=16, max_size=40)
    | st.lists(aware_datetimes().map(to_instant), min_size=16, max_size=40)
)
def test_many_instants_are_each_instant_text(instants: list[dt.datetime]) -> None:
    texts, ns = instant_texts(instants)
    assert list(zip(texts, ns, strict=True)) == [instant_text(instant) for instant in instants]


def _same_instant(parsed: pendulum.DateTime, reference: pendulum.DateTime) -> None:
    assert type(parsed) is type(reference) is pendulum.DateTime
    assert parsed == reference
    assert parsed.timetuple() == reference.timetuple()
    assert parsed.microsecond == reference.microsecond
    assert parsed.fold == reference.fold
    assert type(parsed.tzinfo) is type(reference.tzinfo) is pendulum.FixedTimezone
    assert parsed.tzinfo.offset == reference.tzinfo.offset  # type: ignore[union-attr]
    assert parsed.isoformat() == reference.isoformat()


# Texts that fromisoformat reads besides the stored form: Z, a space, an offset with seconds or
# microseconds, a date alone (naive: refused), fewer digits of a second.
unusual_texts = st.sampled_from(
    [
        "2025-01-06T09:00:00Z",
        "2025-01-06 09:00+01:00",
        "2025-01-06T09:00:00.5-03:30",
        "2025-01-06T09:00:00+05:30:15",
        "2025-01-06T09:00:00+05:30:15.250000",
        "1900-02-28T23:59:59.999999-14:00",
    ]
)


@given(
    st.lists(
        (fixed_offset_instants | stdlib_instants).map(lambda i: instant_text(i)[0]) | unusual_texts,
        max_size=30,
    )
)
def test_many_texts_parse_as_each_text(texts: list[str]) -> None:
    parsed = parse_instants(texts)
    assert len(parsed) == len(texts)
    for one, text in zip(parsed, texts, strict=True):
        _same_instant(one, parse_instant(text))


@given(
    st.lists(fixed_offset_instants.map(lambda i: instant_text(i)[0]), max_size=10),
    st.sampled_from(["2025-01-06T09:00:00", "2025-01-06", "not an instant", ""]),
    st.lists(fixed_offset_instants.map(lambda i: instant_text(i)[0]), max_size=10),
)
def test_many_texts_refuse_the_first_bad_one_as_parse_instant_does(
    before: list[str], bad: str, after: list[str]
) -> None:
    with pytest.raises(ValueError, match=r"\w") as expected:
        parse_instant(bad)
    with pytest.raises(ValueError, match=r"\w") as raised:
        parse_instants([*before, bad, *after, "2025-13-01T00:00:00+00:00"])
    assert str(raised.value) == str(expected.value)
