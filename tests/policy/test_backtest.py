"""Backtests: what a policy set would have raised, the same as a service recording as it goes."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import ValidationError
from servicedelivery.eventlog import InMemoryEventLog
from servicedelivery.model import NS_PER_HOUR
from servicedelivery.policy import (
    Escalations,
    PolicySet,
    backtest,
    escalations_from_log,
    evaluate,
    record_escalations,
)
from servicedelivery.policy._context import Shared
from servicedelivery.policy._escalations import ItemIndex
from tests.policy.strategies import TARGET_OFFSETS, policies, portfolios
from tests.policy.test_agreement import WEEKDAYS
from tests.policy.test_cases import BLOCKED_FRAME, OPERATOR_RULE_SET, T0, utc

H = NS_PER_HOUR


def test_the_operators_rule_backtested_hourly_over_two_weeks() -> None:
    result = backtest(OPERATOR_RULE_SET, BLOCKED_FRAME, start=T0, end=T0 + 14 * 24 * H,
                      every="1h", calendars=WEEKDAYS)  # fmt: skip
    assert len(result.instants) == 14 * 24 + 1
    rows = list(zip(result.at.astype("M8[ns]").astype(str).tolist(), result.action.tolist(),
                    result.level.tolist(), result.target.tolist(), strict=True))  # fmt: skip
    assert rows == [
        ("2024-06-10T08:00:00.000000000", "raise", 1, "queue:am_acme"),
        ("2024-06-14T15:00:00.000000000", "raise", 2, "queue:director_acme"),
    ]
    assert result.explain(1)["level"] == 2
    assert result.counts() == {
        ("provider_block", "raise", "queue:am_acme"): 1,
        ("provider_block", "raise", "queue:director_acme"): 1,
    }
    assert len(result.escalations) == 2
    assert "Backtest: 2 events" in repr(result)


@given(portfolios(), st.data())
def test_a_backtest_records_what_a_service_writing_to_its_trail_would(
    portfolio: Any, data: st.DataObject
) -> None:
    frame, now = portfolio
    drawn = PolicySet([data.draw(policies(name=f"p{index}")) for index in range(2)])
    instants = sorted({now - data.draw(st.integers(0, 100)) * H for _ in range(4)})
    result = backtest(drawn, frame, at=instants, calendars=WEEKDAYS)
    log = InMemoryEventLog()
    expected = []
    for instant in instants:
        found = evaluate(drawn, frame, now=instant, calendars=WEEKDAYS,
                         escalations=escalations_from_log(log)).new()  # fmt: skip
        record_escalations(log, found)
        expected += [(instant, str(p), str(i), str(a), int(lv)) for p, i, a, lv in
                     zip(found.policy, found.item, found.actions, found.level, strict=True)]  # fmt: skip
    got = list(zip(result.at.tolist(), result.policy.tolist(), result.item.tolist(),
                   result.action.tolist(), result.level.tolist(), strict=True))  # fmt: skip
    assert got == expected


def test_bad_backtest_options_are_refused() -> None:
    with pytest.raises(ValidationError):
        backtest(OPERATOR_RULE_SET, BLOCKED_FRAME, start=T0, end=T0 - 1)
    with pytest.raises(ValidationError):
        backtest(OPERATOR_RULE_SET, BLOCKED_FRAME, start=T0, end=T0 + H, every="1 business day")
    with pytest.raises(ValidationError):
        backtest(OPERATOR_RULE_SET, BLOCKED_FRAME, at=[T0], start=T0)
    empty = backtest(OPERATOR_RULE_SET, BLOCKED_FRAME, at=[], calendars=WEEKDAYS)
    assert len(empty) == 0
    assert np.array_equal(empty.instants, [])
    with pytest.raises(ValidationError):
        empty.explain(0)
    assert utc("2024-06-03T07:00:00Z") == T0


def _columns(table: Escalations) -> list[list[Any]]:
    return [getattr(table, field.name).tolist() for field in attrs.fields(Escalations)]


@given(portfolios(), st.data())
def test_a_backtest_is_evaluate_at_each_instant_with_what_was_found_before(
    portfolio: Any, data: st.DataObject
) -> None:
    frame, now = portfolio
    drawn = PolicySet([data.draw(policies(name=f"p{index}")) for index in range(2)])
    targets: dict[Any, Any] = {
        item: data.draw(TARGET_OFFSETS) for item in frame.items.tolist() if data.draw(st.booleans())
    }
    targets["not-an-item"] = now
    if data.draw(st.booleans()) and data.draw(st.booleans()):
        targets["also-not-an-item"] = "soon"  # refused, as evaluate refuses it
    calendars = data.draw(st.sampled_from([None, WEEKDAYS]))
    instants = sorted({now - data.draw(st.integers(0, 100)) * H for _ in range(4)})
    # The reference: evaluate at each instant, recording what it finds before the next.
    ledger = Escalations.empty()
    expected: list[Any] = []
    problems = None
    try:
        for instant in instants:
            found = evaluate(drawn, frame, now=instant, calendars=calendars,
                             escalations=ledger, targets=targets).new()  # fmt: skip
            ledger = ledger.extended(found)
            expected.append(found.records())
    except ValidationError as error:
        problems = error.errors
    if problems is not None:
        with pytest.raises(ValidationError) as refused:
            backtest(drawn, frame, at=instants, calendars=calendars, targets=targets)
        assert refused.value.errors == problems
        return
    result = backtest(drawn, frame, at=instants, calendars=calendars, targets=targets)
    assert [found.records() for found in result.findings] == expected
    assert _columns(result.escalations) == _columns(ledger)


@given(portfolios(), st.lists(st.integers(-10, 200), min_size=1, max_size=4))
def test_the_item_index_cut_at_an_instant_is_the_index_of_the_frame_cut_there(
    portfolio: Any, hours: list[int]
) -> None:
    frame, now = portfolio
    shared = Shared(frame, None)
    ids = np.array([*frame.items.tolist(), "absent"], dtype=object)
    for hour in hours:
        instant = now - hour * H
        cut = frame.as_of(instant).items
        assert shared.item_index(instant).codes(ids).tolist() == ItemIndex(cut).codes(ids).tolist()


@given(st.data())
def test_a_subset_of_an_item_index_is_the_index_of_the_subset(data: st.DataObject) -> None:
    # Ids whose texts coincide (1 and "1") are found in item order, in the subset too.
    items = data.draw(st.lists(st.sampled_from(["a", "b", "1", 1, 2, "2"]), max_size=12))
    used = np.array(data.draw(st.lists(st.booleans(), min_size=len(items), max_size=len(items))))
    array = np.array(items, dtype=object)
    ids = np.array(["a", "b", "1", 1, 2, "2", "z"], dtype=object)
    found = ItemIndex(array).subset(used.astype(bool)).codes(ids)
    assert found.tolist() == ItemIndex(array[used.astype(bool)]).codes(ids).tolist()
