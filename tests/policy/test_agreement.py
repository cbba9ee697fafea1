"""The bulk and the single-item paths agree on random portfolios, policies and escalations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.calendars import BusinessCalendar
from servicedelivery.errors import ValidationError
from servicedelivery.policy import ItemHistory, PolicySet, evaluate, evaluate_item
from tests.policy.strategies import TARGET_OFFSETS, ledgers, policies, portfolios

WEEKDAYS = BusinessCalendar.from_data(
    {
        "name": "weekdays",
        "timezone": "Europe/Paris",
        "hours": {day: ["09:00-17:00"] for day in ("monday", "tuesday", "wednesday", "thursday")}
        | {"friday": ["09:00-12:00", "13:00-16:30"]},
    }
)


def _outcome(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except ValidationError as error:
        return sorted(problem.path for problem in error.errors)


@given(portfolios(), st.data())
def test_bulk_and_single_item_evaluation_give_identical_findings(
    portfolio: Any, data: st.DataObject
) -> None:
    frame, now = portfolio
    count = data.draw(st.integers(1, 3))
    drawn = PolicySet([data.draw(policies(name=f"p{index}")) for index in range(count)])
    escalations = data.draw(ledgers(frame, list(drawn.names), now))
    items = frame.items.tolist()
    targets = {item: data.draw(TARGET_OFFSETS) for item in items if data.draw(st.booleans())}
    options = {"now": now, "calendars": WEEKDAYS, "escalations": escalations}
    bulk = _outcome(evaluate, drawn, frame, targets=targets, **options)
    for item in items:
        history = ItemHistory.from_frame(frame, item, target=targets.get(item))
        one = _outcome(evaluate_item, drawn, history, **options)
        if isinstance(bulk, list):  # the same problem, found on the whole frame
            assert not isinstance(one, list) or one == bulk
            continue
        assert not isinstance(one, list), one
        assert one.records() == bulk.where(item=item).records()


@given(portfolios())
def test_no_policy_gives_no_finding_and_bad_options_are_refused(portfolio: Any) -> None:
    frame, now = portfolio
    assert len(evaluate(PolicySet([]), frame, now=now)) == 0
    with pytest.raises(ValidationError):
        evaluate(PolicySet([]), frame, now=now, escalations="nope")  # type: ignore[arg-type]
