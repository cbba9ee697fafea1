"""The bulk and the single-item paths agree on random portfolios, policies and escalations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery import testing
from servicedelivery.calendars import BusinessCalendar
from servicedelivery.errors import ValidationError
from servicedelivery.policy import (
    Action,
    Duration,
    ItemHistory,
    Policy,
    PolicySet,
    Target,
    all_of,
    any_of,
    evaluate,
    evaluate_item,
    field,
    measure,
)
from servicedelivery.sla import sla_clock, sla_clocks
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


@st.composite
def _sla_leaves(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        op = draw(st.sampled_from(("lt", "le", "gt", "ge")))
        return getattr(measure("sla_fraction_used", sla="s"), op)(
            draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1.5]))
        )
    op = draw(st.sampled_from(("lt", "le", "gt", "ge")))
    threshold = draw(st.sampled_from(["0s", "1h", "-2h", "1d", {"working": "3h"}]))
    return getattr(measure("sla_remaining", sla="s"), op)(threshold)


@given(portfolios(), testing.slas(calendars=st.sampled_from([None, "item"])), st.data())
def test_sla_measures_agree_on_both_paths_with_the_sla_layers_clocks(
    portfolio: Any, sla: Any, data: st.DataObject
) -> None:
    frame, now = portfolio
    leaf = data.draw(_sla_leaves())
    other = data.draw(st.sampled_from([field("state").eq("blocked"), measure("age").gt("2h")]))
    when = data.draw(st.sampled_from([leaf, all_of(leaf, other), any_of(leaf, other)]))
    policy = Policy(name="sla_risk", when=when, action=Action.TAG, to=Target.queue("sla_at_risk"),
                    hold=data.draw(st.sampled_from([None, Duration.parse("1h")])))  # fmt: skip
    clocks = sla_clocks(sla, frame, now=now, calendars=WEEKDAYS)
    bulk = evaluate(policy, frame, now=now, calendars=WEEKDAYS, slas={"s": clocks})
    for item in frame.items.tolist():
        history = ItemHistory.from_frame(frame, item)
        one = sla_clock(sla, frame, item, now=now, calendars=WEEKDAYS)
        for given_clocks in (one, clocks):
            single = evaluate_item(policy, history, now=now, calendars=WEEKDAYS,
                                   slas={"s": given_clocks})  # fmt: skip
            assert single.records() == bulk.where(item=item).records()
