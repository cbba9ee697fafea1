"""Episodes remember per-item reductions and derived columns; asking in any order changes nothing."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from servicedelivery import metrics
from servicedelivery.metrics import Episodes, EventFrame
from tests.metrics.strategies import STATE_VALUES, History, histories

STATE_SETS = st.sets(st.sampled_from(STATE_VALUES), min_size=1).map(sorted)


class SharedEpisodes(RuleBasedStateMachine):
    """Metrics asked of one shared ``Episodes`` agree with the same metrics on fresh episodes."""

    frame: EventFrame
    now: int
    shared: Episodes

    def fresh(self) -> Episodes:
        return metrics.episodes(self.frame, now=self.now)

    @initialize(history=histories())
    def build(self, history: History) -> None:
        columns, self.now = history
        self.frame = EventFrame.from_columns(columns, owner="owner", reason="reason")
        self.shared = self.fresh()

    @rule(start=STATE_SETS, end=STATE_SETS, reopened=st.sampled_from(["span", "first", "last"]))
    def cycle_time(self, start: list[str], end: list[str], reopened: str) -> None:
        options = {"start": start, "end": end, "reopened": reopened}
        shared = metrics.cycle_time(self.shared, **options)  # type: ignore[arg-type]
        fresh = metrics.cycle_time(self.fresh(), **options)  # type: ignore[arg-type]
        assert shared.item.tolist() == fresh.item.tolist()
        assert shared.duration.tolist() == fresh.duration.tolist()

    @rule(start=STATE_SETS, reopened=st.sampled_from(["span", "last"]))
    def work_item_age(self, start: list[str], reopened: str) -> None:
        shared = metrics.work_item_age(self.shared, start=start, reopened=reopened)  # type: ignore[arg-type]
        fresh = metrics.work_item_age(self.fresh(), start=start, reopened=reopened)  # type: ignore[arg-type]
        assert shared.item.tolist() == fresh.item.tolist()
        assert shared.duration.tolist() == fresh.duration.tolist()

    @rule(states=STATE_SETS)
    def first_in(self, states: list[str]) -> None:
        lut = np.isin(np.array(STATE_VALUES), states)
        assert self.shared.first_in(lut).tolist() == self.fresh().first_in(lut).tolist()

    @rule()
    def time_blocked(self) -> None:
        shared = metrics.time_in_state(self.shared, states=["blocked"], by=["owner"])
        fresh = metrics.time_in_state(self.fresh(), states=["blocked"], by=["owner"])
        assert shared.duration.tolist() == fresh.duration.tolist()

    @invariant()
    def derived_columns_agree_with_their_definition(self) -> None:
        shared = self.shared
        if not len(shared):
            return
        assert (
            shared.end[:-1][~shared.last[:-1]].tolist()
            == shared.start[1:][~shared.last[:-1]].tolist()
        )
        assert (shared.end[shared.last] == shared.now).all()
        assert np.diff(shared.item).min(initial=0) >= 0
        assert self.frame.as_of(self.now).time[shared.first_row].tolist() == shared.start.tolist()


TestSharedEpisodes = SharedEpisodes.TestCase
