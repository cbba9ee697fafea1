"""Random trigger sequences through the machine, the scalar check, the table and the reference.

At every step all four agree on every milestone's state and on which events were refused, and no
milestone reaches an undefined state or is blocked without a reason and an owner.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from servicedelivery.errors import InvalidTransition
from servicedelivery.lifecycle import DEFAULT_LIFECYCLE, Lifecycle, ViolationKind
from servicedelivery.model import DEFAULT_TAXONOMY, OWNERS, MilestoneState, Owner
from servicedelivery.testing import lifecycles
from tests.lifecycle import reference

ITEMS = 4


class LifecycleAgreement(RuleBasedStateMachine):
    lifecycle: Lifecycle

    @initialize(lifecycle=st.just(DEFAULT_LIFECYCLE) | lifecycles())
    def start(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        initial = lifecycle.initial
        # A lifecycle may start in a blocked state: such milestones are created with a reason.
        self.milestones = [
            reference.milestone_in(lifecycle, initial, id=f"M-{index}") for index in range(ITEMS)
        ]
        self.expected = [initial] * ITEMS
        self.columns: dict[str, list[Any]] = {
            "items": [], "triggers": [], "owners": [], "reasons": [], "overrides": []
        }  # fmt: skip
        self.refused: list[tuple[int, str]] = []

    @rule(
        item=st.integers(0, ITEMS - 1),
        data=st.data(),
        reason=st.none() | st.sampled_from(DEFAULT_TAXONOMY.codes),
        owner=st.none() | st.sampled_from(Owner),
        override=st.booleans(),
    )
    def fire(
        self,
        item: int,
        data: st.DataObject,
        reason: str | None,
        owner: Owner | None,
        override: bool,
    ) -> None:
        lifecycle = self.lifecycle
        trigger = data.draw(st.sampled_from(lifecycle.trigger_names))
        details = {"reason": reason, "owner": owner, "override": override}
        state = self.expected[item]
        # The plain reference; for the default lifecycle also the moves written by hand.
        dest, kind = reference.outcome(lifecycle, "trigger", state, trigger, **details)
        if lifecycle is DEFAULT_LIFECYCLE:
            by_hand = reference.DEFAULT_MOVES.get((state, trigger))
            assert (by_hand is None) == (kind == "illegal_trigger")
            if kind is None:
                assert dest == by_hand
        # The scalar check and the machine.
        milestone = self.milestones[item]
        refusal: InvalidTransition | None = None
        try:
            moved = lifecycle.apply(milestone, trigger, **details)
        except InvalidTransition as error:
            refusal, moved = error, milestone
        assert (refusal is None) == (kind is None)
        if refusal is not None:
            assert (refusal.reason is None) == (kind == "illegal_trigger")
            assert refusal.item == milestone.id
            assert refusal.state == state
            assert refusal.allowed == tuple(sorted(lifecycle.allowed_triggers(state)))
        try:
            scalar = lifecycle.next_state(state, trigger, **details)
        except InvalidTransition:
            scalar = state
        assert moved.state_name == scalar == dest
        self.milestones[item] = moved
        self.expected[item] = dest
        position = len(self.columns["items"])
        if kind is not None:
            self.refused.append((position, kind))
        # The table, over the whole history so far.
        self.columns["items"].append(item)
        self.columns["triggers"].append(trigger)
        self.columns["owners"].append(-1 if owner is None else OWNERS.index(owner))
        self.columns["reasons"].append(
            -1 if reason is None else DEFAULT_TAXONOMY.codes.index(reason)
        )
        self.columns["overrides"].append(override)
        check = lifecycle.table.validate(
            **{key: np.array(values) for key, values in self.columns.items()}
        )
        names = lifecycle.state_names
        assert names[check.states_after[-1]] == dest
        assert [
            (int(p), ViolationKind(k).label)
            for p, k in zip(check.positions, check.kinds, strict=True)
        ] == self.refused
        finals = dict(zip(check.items.tolist(), check.final_states.tolist(), strict=True))
        for index, name in enumerate(self.expected):
            if index in finals:
                assert names[finals[index]] == name

    @invariant()
    def states_are_defined_and_blocked_milestones_say_why(self) -> None:
        for milestone, expected in zip(self.milestones, self.expected, strict=True):
            assert milestone.state_name in self.lifecycle.state_names
            assert milestone.state_name == expected
            assert milestone.state is self.lifecycle.category(milestone.state_name)
            if milestone.state is MilestoneState.BLOCKED:
                assert milestone.reason in DEFAULT_TAXONOMY
                assert milestone.owner is not None


TestLifecycleAgreement = LifecycleAgreement.TestCase
