"""Event ids: UUID version 7 text, time-ordered, strictly increasing in draw order."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.eventlog import MilestoneStarted, NewEvent, _ids, uuid7_text
from servicedelivery.eventlog._ids import uuid7_text_at
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail

_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _fields(text: str) -> tuple[int, int, int]:
    """The time in ms, rand_a and rand_b of a UUID version 7, read as RFC 9562 lays them out."""
    value = uuid.UUID(text).int
    return value >> 80, (value >> 64) & 0xFFF, value & ((1 << 62) - 1)


@given(ms=st.integers(0, (1 << 48) - 1), random=st.integers(0, (1 << 74) - 1))
def test_uuid7_text_at_lays_out_the_fields_of_rfc_9562(ms: int, random: int) -> None:
    text = uuid7_text_at(ms, random)
    parsed = uuid.UUID(text)
    assert _CANONICAL.fullmatch(text)
    assert str(parsed) == text
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert _fields(text) == (ms, random >> 62, random & ((1 << 62) - 1))


@given(
    first=st.tuples(st.integers(0, (1 << 48) - 1), st.integers(0, (1 << 74) - 1)),
    second=st.tuples(st.integers(0, (1 << 48) - 1), st.integers(0, (1 << 74) - 1)),
)
def test_uuid7_text_sorts_as_its_time_then_its_random_bits(
    first: tuple[int, int], second: tuple[int, int]
) -> None:
    texts = (uuid7_text_at(*first), uuid7_text_at(*second))
    assert (texts[0] < texts[1]) == (first < second)
    assert (texts[0] == texts[1]) == (first == second)


@given(count=st.integers(1, 300))
def test_drawn_ids_are_valid_and_strictly_increasing_in_draw_order(count: int) -> None:
    before = time.time_ns() // 1_000_000
    drawn = [uuid7_text() for _ in range(count)]
    after = time.time_ns() // 1_000_000
    for text in drawn:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert drawn == sorted(set(drawn))
    # The time field is the clock's, unless ids drawn in one millisecond ran past it (they may
    # run ahead by a few ms only if more than 2**74 are drawn in one, which never happens).
    assert before <= _fields(drawn[0])[0]
    assert _fields(drawn[-1])[0] <= after


def _fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """No id drawn yet (the process's state comes back after the test)."""
    monkeypatch.setattr(_ids._last, "ms", 0)
    monkeypatch.setattr(_ids._last, "random", 0)


def test_ids_keep_increasing_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_state(monkeypatch)
    now = [1_700_000_000_000_000_000]
    monkeypatch.setattr(_ids.time, "time_ns", lambda: now[0])
    first = uuid7_text()
    now[0] -= 5_000_000_000  # five seconds back
    second = uuid7_text()
    assert first < second
    assert _fields(second)[0] == _fields(first)[0] == 1_700_000_000_000
    assert _fields(second)[1:] != _fields(first)[1:]
    now[0] += 10_000_000_000  # past where it was: fresh random bits at the new time
    third = uuid7_text()
    assert _fields(third)[0] == 1_700_000_005_000


def test_ids_move_to_the_next_millisecond_when_the_random_bits_run_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fresh_state(monkeypatch)
    monkeypatch.setattr(_ids.time, "time_ns", lambda: 1_800_000_000_000_000_000)
    first = uuid7_text()
    monkeypatch.setattr(_ids._last, "random", (1 << 74) - 1)
    second = uuid7_text()
    assert first < second
    assert _fields(second)[0] == _fields(first)[0] + 1


def test_ids_drawn_by_threads_are_distinct() -> None:
    drawn: list[list[str]] = [[] for _ in range(4)]

    def draw(into: list[str]) -> None:
        into.extend(uuid7_text() for _ in range(2_000))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [text for into in drawn for text in into]
    assert len(set(every)) == len(every)
    for into in drawn:
        assert into == sorted(into)


def test_new_events_get_time_ordered_ids_and_keep_given_ids_of_any_version() -> None:
    at = pendulum.datetime(2025, 1, 6, tz="UTC")
    drawn = [NewEvent(MilestoneStarted(), occurred_at=at).event_id for _ in range(50)]
    assert all(uuid.UUID(text).version == 7 for text in drawn)
    assert drawn == sorted(drawn)
    for given_id in (uuid.uuid4(), uuid.uuid1(), uuid.uuid5(uuid.NAMESPACE_DNS, "x")):
        new = NewEvent(MilestoneStarted(), occurred_at=at, event_id=given_id)
        assert new.event_id == str(given_id)


def test_synthetic_trail_ids_are_version_7_in_the_order_they_are_appended() -> None:
    portfolio = synthetic_portfolio(orders=40, seed=9)
    ids = [new.event_id for _, events in synthetic_trail(portfolio, seed=9) for new in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(text).version for text in ids} == {7}
    # As if drawn when the trail was written: at its ``now`` (2026-01-05 09:00 UTC by default).
    assert {_fields(text)[0] for text in ids} == {
        pendulum.datetime(2026, 1, 5, 9, tz="UTC").int_timestamp * 1_000
    }
    other = {new.event_id for _, events in synthetic_trail(portfolio, seed=10) for new in events}
    assert other.isdisjoint(ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_process_does_not_draw_its_parents_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh_state(monkeypatch)
    monkeypatch.setattr(_ids.time, "time_ns", lambda: 1_750_000_000_000_000_000)  # a still clock
    before = uuid7_text()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, ",".join(uuid7_text() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        drawn = pipe.read().split(",")
    os.waitpid(child, 0)
    parents = [uuid7_text() for _ in range(3)]
    assert set(drawn).isdisjoint(parents)
    assert min(drawn + parents) > before
    # The child moved on to the next millisecond; the parent stayed in the clock's.
    assert {_fields(text)[0] for text in drawn} == {1_750_000_000_001}
    assert {_fields(text)[0] for text in parents} == {1_750_000_000_000}
