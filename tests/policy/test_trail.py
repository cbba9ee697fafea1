"""Escalations recorded in the trail keep policies from firing twice, across restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import ValidationError
from servicedelivery.eventlog import EscalationRaised, InMemoryEventLog, NewEvent, SQLiteEventLog
from servicedelivery.model import NS_PER_HOUR, from_epoch_ns
from servicedelivery.policy import (
    FindingAction,
    PolicySet,
    escalation_events,
    escalations_from_columns,
    escalations_from_log,
    evaluate,
    record_escalations,
)
from tests.policy.strategies import policies, portfolios
from tests.policy.test_agreement import WEEKDAYS


def _keys(findings: Any) -> set[tuple[str, str, int, int]]:
    return {
        (str(p), str(i), int(e), int(lv))
        for p, i, e, lv in zip(
            findings.policy, findings.item, findings.episode, findings.level, strict=True
        )
    }


@given(portfolios(), st.data())
def test_repeated_evaluation_over_the_same_trail_raises_nothing_new(
    portfolio: Any, data: st.DataObject
) -> None:
    frame, now = portfolio
    drawn = PolicySet([data.draw(policies(name=f"p{index}")) for index in range(2)])
    log = InMemoryEventLog()
    options: dict[str, Any] = {"calendars": WEEKDAYS}
    first = evaluate(drawn, frame, now=now, escalations=escalations_from_log(log), **options)
    record_escalations(log, first)
    trail = escalations_from_log(log)
    assert len(trail) == len(first.new())
    again = evaluate(drawn, frame, now=now, escalations=trail, **options)
    assert len(again.new()) == 0
    # Later, nothing already raised is raised again at the same level for the same episode.
    later_now = now + data.draw(st.integers(1, 200)) * NS_PER_HOUR
    later = evaluate(drawn, frame, now=later_now, escalations=trail, **options)
    raised = later.where(action=FindingAction.RAISE)
    assert not _keys(raised) & _keys(first.where(action=FindingAction.RAISE))
    # Recording what the later evaluation found, then evaluating once more, finds nothing new.
    record_escalations(log, later)
    assert len(evaluate(drawn, frame, now=later_now, escalations=escalations_from_log(log),
                        **options).new()) == 0  # fmt: skip


def test_a_restarted_service_reads_what_it_raised_from_its_sqlite_trail(tmp_path: Path) -> None:
    from tests.policy.test_cases import BLOCKED_FRAME, OPERATOR_RULE_SET, T0

    now = T0 + 7 * 24 * NS_PER_HOUR + NS_PER_HOUR
    path = tmp_path / "trail.db"
    with SQLiteEventLog(path) as log:
        found = evaluate(OPERATOR_RULE_SET, BLOCKED_FRAME, now=now, calendars=WEEKDAYS)
        assert len(found.new()) == 1
        record_escalations(log, found)
    with SQLiteEventLog(path) as log:  # the service restarts
        trail = escalations_from_log(log)
        assert trail.policy.tolist() == ["provider_block"]
        again = evaluate(OPERATOR_RULE_SET, BLOCKED_FRAME, now=now, calendars=WEEKDAYS,
                         escalations=trail)  # fmt: skip
        assert len(again.new()) == 0
        assert again.actions.tolist() == ["active"]


def test_recorded_events_carry_the_finding() -> None:
    from tests.policy.test_cases import BLOCKED_FRAME, OPERATOR_RULE_SET, T0

    found = evaluate(OPERATOR_RULE_SET, BLOCKED_FRAME, now=T0 + 7 * 24 * NS_PER_HOUR + NS_PER_HOUR,
                     calendars=WEEKDAYS)  # fmt: skip
    [(stream, new)] = escalation_events(found)
    event = new.event
    assert isinstance(event, EscalationRaised)
    assert stream == f"escalation:provider_block/M-1/{event.episode}/1"
    assert event.item == "milestone:M-1"
    assert event.target == "queue:am_acme"
    assert event.explanation == found.explain(0)
    assert new.occurred_at == from_epoch_ns(found.now)


def test_escalation_streams_not_written_by_policies_are_refused() -> None:
    log = InMemoryEventLog()
    event = EscalationRaised(policy="x", item="milestone:M-1", episode=1, target="queue:q")
    log.append("escalation:someone-else", [NewEvent(event, occurred_at=from_epoch_ns(0))])
    with pytest.raises(ValidationError, match="someone-else"):
        escalations_from_columns(log.read_columns())
    assert np.array_equal(escalations_from_log(InMemoryEventLog()).level, [])
