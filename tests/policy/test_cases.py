"""Hand-computed cases: hold time, escalation levels, repeats and clearing.

The calendar of these cases works Monday to Thursday 09:00-17:00 and Friday 09:00-12:00 and
13:00-16:30, Paris time (UTC+2 in June 2024): 38.5 hours a week over 5 days, so a business day
is 7.7 hours and "5 business days" is 38.5 hours of working time, one whole working week.
"""

from __future__ import annotations

from typing import Any

from servicedelivery.eventlog import InMemoryEventLog
from servicedelivery.metrics import EventFrame
from servicedelivery.model import NS_PER_HOUR, NS_PER_MINUTE, to_epoch_ns
from servicedelivery.policy import (
    Escalations,
    ItemHistory,
    Policy,
    PolicySet,
    escalations_from_log,
    evaluate,
    evaluate_item,
    record_escalations,
)
from tests.policy.test_agreement import WEEKDAYS
from tests.policy.test_definitions import OPERATOR_RULE


def utc(text: str) -> int:
    import pendulum

    return to_epoch_ns(pendulum.parse(text))


T0 = utc("2024-06-03T07:00:00Z")  # Monday 09:00 in Paris
H = NS_PER_HOUR

_ROWS = [
    # item, time, state, reason, provider
    ("M-1", T0 - 24 * H, "planned", None, "acme"),
    ("M-1", T0 - 2 * H, "in_progress", None, "acme"),
    ("M-1", T0, "blocked", "awaiting_provider", "acme"),
    ("M-2", T0 - 24 * H, "planned", None, "beta"),
    ("M-2", T0, "in_progress", None, "beta"),
    ("M-3", T0 - 24 * H, "planned", None, "beta"),
    ("M-3", T0, "blocked", "awaiting_provider", "beta"),
    ("M-3", T0 + 5 * H, "in_progress", None, "beta"),
    ("M-3", T0 + 9 * H, "blocked", "provider_fault", "beta"),
]


def _frame(rows: list[tuple[Any, ...]]) -> EventFrame:
    columns: dict[str, list[Any]] = {"item": [], "time": [], "state": [], "reason": [],
                                      "provider": []}  # fmt: skip
    for row in rows:
        for name, value in zip(columns, row, strict=True):
            columns[name].append(value)
    return EventFrame.from_columns(columns, reason="reason", attributes=["provider"])


BLOCKED_FRAME = _frame(_ROWS[:3])
FRAME = _frame(_ROWS)
OPERATOR_RULE_SET = PolicySet([Policy.from_data(OPERATOR_RULE)])


def _rows(found: Any) -> list[tuple[str, str, int, str, str]]:
    return [
        (str(item), str(action), int(level), str(target), str(since))
        for item, action, level, target, since in zip(
            found.item, found.actions, found.level, found.target,
            found.since.astype("M8[ns]").astype(str), strict=True,
        )
    ]  # fmt: skip


def _check(policies: PolicySet, frame: EventFrame, now: int, ledger: Escalations) -> Any:
    """Evaluate in bulk, and check every item's single-item evaluation agrees."""
    found = evaluate(policies, frame, now=now, calendars=WEEKDAYS, escalations=ledger)
    for item in frame.items.tolist():
        one = evaluate_item(policies, ItemHistory.from_frame(frame, item), now=now,
                            calendars=WEEKDAYS, escalations=ledger)  # fmt: skip
        assert one.records() == found.where(item=item).records()
    return found


def test_the_operators_rule_escalates_after_5_business_days_then_to_the_director() -> None:
    log = InMemoryEventLog()
    # Blocked Monday 09:00 Paris: 38.5 working hours are done on Friday at 16:30 Paris
    # (14:30 UTC); blocked_for > 38.5h holds from the next opening, Monday 10 June 07:00 UTC.
    friday_close = utc("2024-06-07T14:30:00Z")
    monday = utc("2024-06-10T07:00:00Z")
    empty = Escalations.empty()
    assert _rows(_check(OPERATOR_RULE_SET, BLOCKED_FRAME, friday_close, empty)) == []
    assert _rows(_check(OPERATOR_RULE_SET, BLOCKED_FRAME, monday, empty)) == []  # 38.5h, not more
    found = _check(OPERATOR_RULE_SET, BLOCKED_FRAME, monday + 30 * NS_PER_MINUTE, empty)
    assert _rows(found) == [("M-1", "raise", 1, "queue:am_acme", "2024-06-10T07:00:00.000000000")]
    leaf = found.explain(0)["when"]["all_of"][1]
    assert leaf["value"] == "P1DT15H"  # 39 working hours
    assert leaf["threshold"] == "P1DT14H30M"  # 5 x 7.7h
    assert found.evidence(0) == (2,)  # the owner and the block both rest on the blocking event
    record_escalations(log, found)
    # Level 2: 5 more business days from Monday 07:00 UTC, so Friday 14 June 14:30 UTC.
    level_2 = utc("2024-06-14T14:30:00Z")
    ledger = escalations_from_log(log)
    before = _check(OPERATOR_RULE_SET, BLOCKED_FRAME, level_2 - 1, ledger)
    assert _rows(before) == [("M-1", "active", 1, "queue:am_acme", "2024-06-10T07:00:00.000000000")]
    up = _check(OPERATOR_RULE_SET, BLOCKED_FRAME, level_2, ledger)
    assert _rows(up) == [
        ("M-1", "raise", 2, "queue:director_acme", "2024-06-10T07:00:00.000000000")
    ]
    # Without the trail, the first evaluation after both thresholds raises level 2 at once.
    assert _rows(_check(OPERATOR_RULE_SET, BLOCKED_FRAME, level_2, empty))[0][1:3] == ("raise", 2)


STUCK = {
    "name": "stuck",
    "when": {
        "all_of": [
            {"field": "state", "eq": "in_progress"},
            {"measure": "time_in_state", "gt": "1h"},
        ]
    },
    "action": "route",
    "to": {"queue": "ops"},
}


def test_a_hold_time_delays_the_first_raise_until_the_condition_has_held_that_long() -> None:
    policies = PolicySet([Policy.from_data({**STUCK, "hold": "2h"})])
    empty = Escalations.empty()
    # M-2 in progress since T0: the condition holds from T0 + 1h, and fires at T0 + 3h.
    at_one = _rows(_check(policies, FRAME, T0 + H, empty))
    assert [row for row in at_one if row[0] == "M-2"] == []
    pending = _rows(_check(policies, FRAME, T0 + 3 * H - 1, empty))
    assert ("M-2", "pending", 1, "queue:ops", "2024-06-03T08:00:00.000000000") in pending
    fired = _rows(_check(policies, FRAME, T0 + 3 * H, empty))
    assert ("M-2", "raise", 1, "queue:ops", "2024-06-03T08:00:00.000000000") in fired


def test_a_repeat_renotifies_after_the_interval_from_the_last_notice() -> None:
    policies = PolicySet([Policy.from_data({**STUCK, "repeat": "1d"})])
    log = InMemoryEventLog()
    raised_at = T0 + 2 * H
    record_escalations(log, _check(policies, FRAME, raised_at, escalations_from_log(log)))
    ledger = escalations_from_log(log)
    assert ledger.item.tolist() == ["M-2"]

    def m2(now: int, trail: Escalations) -> tuple[str, int]:
        [row] = [r for r in _rows(_check(policies, FRAME, now, trail)) if r[0] == "M-2"]
        return row[1], row[2]

    assert m2(raised_at + 24 * H - 1, ledger) == ("active", 1)
    assert m2(raised_at + 24 * H, ledger) == ("repeat", 1)
    record_escalations(log, _check(policies, FRAME, raised_at + 24 * H, ledger))
    ledger = escalations_from_log(log)
    assert m2(raised_at + 25 * H, ledger) == ("active", 1)
    assert m2(raised_at + 48 * H, ledger) == ("repeat", 1)


def test_clearing_waits_for_the_condition_to_be_false_for_clear_after() -> None:
    policy = Policy.from_data(
        {
            "name": "blocked_long",
            "when": {"measure": "blocked_for", "gt": "1h"},
            "action": "escalate",
            "levels": [{"to": {"owner": "provider"}}],
            "clear_after": "2h",
        }
    )
    policies = PolicySet([policy])
    log = InMemoryEventLog()

    def m3(now: int) -> list[tuple[str, str, int, str, str]]:
        found = _check(policies, FRAME, now, escalations_from_log(log))
        record_escalations(log, found)
        return [row for row in _rows(found) if row[0] == "M-3"]

    # M-3 blocked T0 .. T0+5h, then in progress, then blocked again at T0+9h.
    assert m3(T0 + 2 * H) == [
        ("M-3", "raise", 1, "owner:provider", "2024-06-03T08:00:00.000000000")
    ]
    # Unblocked at T0+5h: false since then; the escalation stays open for 2 hours.
    assert m3(T0 + 6 * H) == [
        ("M-3", "active", 1, "owner:provider", "2024-06-03T12:00:00.000000000")
    ]
    assert m3(T0 + 7 * H) == [
        ("M-3", "clear", 1, "owner:provider", "2024-06-03T12:00:00.000000000")
    ]
    assert m3(T0 + 8 * H) == []
    # Blocked again: a new episode, a new escalation once it has lasted more than an hour.
    assert m3(T0 + 10 * H) == []
    assert m3(T0 + 10 * H + 1) == [("M-3", "raise", 1, "owner:provider",
                                    "2024-06-03T17:00:00.000000000")]  # fmt: skip
    trail = escalations_from_log(log)
    mine = trail.item == "M-3"
    # Raised and cleared in the episode its first block opened (row 6), raised in the next (row 8).
    assert trail.episode[mine].tolist() == [6, 6, 8]
    assert trail.cleared[mine].tolist() == [False, True, False]
