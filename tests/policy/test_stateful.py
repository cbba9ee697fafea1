"""A service's loop as a state machine: time passes, it evaluates and records, it restarts.

Whatever the order, the trail never holds an escalation raised twice at one level of one episode
(other than its repeats), nothing after an episode's clearing, and levels that only go up.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from servicedelivery.eventlog import InMemoryEventLog
from servicedelivery.model import NS_PER_HOUR
from servicedelivery.policy import (
    Escalations,
    PolicySet,
    escalations_from_log,
    evaluate,
    record_escalations,
)
from tests.policy.strategies import policies, portfolios
from tests.policy.test_agreement import WEEKDAYS


class ServiceLoop(RuleBasedStateMachine):
    """One service evaluating a fixed portfolio as time passes, with its trail in a log."""

    def __init__(self) -> None:
        super().__init__()
        self.log = InMemoryEventLog()
        self.ledger: Escalations = Escalations.empty()
        self.frame: Any = None
        self.now = 0
        self.policies = PolicySet([])

    @initialize(portfolio=portfolios(), drawn=st.lists(policies(), min_size=1, max_size=2))
    def start(self, portfolio: Any, drawn: list[Any]) -> None:
        self.frame, now = portfolio
        self.now = now - 48 * NS_PER_HOUR
        self.policies = PolicySet(
            [type(p).from_data({**p.to_data(), "name": f"p{i}"}) for i, p in enumerate(drawn)]
        )

    @rule(hours=st.integers(0, 30))
    def time_passes(self, hours: int) -> None:
        self.now += hours * NS_PER_HOUR

    @rule()
    def evaluate_and_record(self) -> None:
        found = evaluate(self.policies, self.frame, now=self.now, calendars=WEEKDAYS,
                         escalations=self.ledger)  # fmt: skip
        record_escalations(self.log, found)
        self.ledger = self.ledger.extended(found)
        again = evaluate(self.policies, self.frame, now=self.now, calendars=WEEKDAYS,
                         escalations=self.ledger)  # fmt: skip
        assert len(again.new()) == 0

    @rule()
    def restart(self) -> None:
        self.ledger = escalations_from_log(self.log)

    @invariant()
    def the_trail_is_what_the_service_holds(self) -> None:
        trail = escalations_from_log(self.log)
        assert trail.policy.tolist() == self.ledger.policy.tolist()
        assert trail.level.tolist() == self.ledger.level.tolist()
        assert trail.at.tolist() == self.ledger.at.tolist()

    @invariant()
    def no_episode_is_raised_again_after_its_clearing_and_levels_only_go_up(self) -> None:
        trail = escalations_from_log(self.log)
        seen: dict[tuple[str, str, int], tuple[int, bool]] = {}
        for policy, item, episode, level, cleared in zip(
            trail.policy.tolist(), trail.item.tolist(), trail.episode.tolist(),
            trail.level.tolist(), trail.cleared.tolist(), strict=True,
        ):  # fmt: skip
            key = (policy, item, episode)
            highest, closed = seen.get(key, (0, False))
            assert not closed, key
            if not cleared:
                assert level >= highest, key
            seen[key] = (max(highest, level), cleared)


ServiceLoop.TestCase.settings = settings(max_examples=15, stateful_step_count=8, deadline=None)
TestServiceLoop = ServiceLoop.TestCase
