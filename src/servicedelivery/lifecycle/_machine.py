"""The lifecycle compiled to a ``transitions`` state machine, for single milestones.

``transitions`` manages *models*: it writes the state onto them (and trigger methods, unless told
otherwise) and finds them again by equality. Milestones are frozen values compared by content, so
they are never handed to it. Instead one machine per lifecycle, with no registered model, fires its
events on a throwaway :class:`_Carrier` that holds the milestone's state and the event's details;
the machine checks the source state and the declared guards and moves the carrier, and the adapter
turns the outcome into a new milestone or an :class:`~servicedelivery.errors.InvalidTransition`.
A carrier per call also makes the shared machine safe to use from several threads: the machine
itself keeps no per-call state when it is not queued.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import attrs
from transitions import EventData, Machine, MachineError

from servicedelivery.errors import InvalidTransition
from servicedelivery.lifecycle._definition import Guard, guard_refusal, ordered_guards
from servicedelivery.model import Milestone, MilestoneState, Owner, Taxonomy

if TYPE_CHECKING:
    from servicedelivery.lifecycle._lifecycle import Lifecycle

__all__ = ["LifecycleMachine"]


class _Carrier:
    """What the machine sees of one milestone for one event: a state and the event's details."""

    __slots__ = ("override", "owner", "reason", "refusal", "state", "taxonomy")

    def __init__(
        self,
        state: str,
        *,
        reason: str | None,
        owner: str | None,
        override: bool,
        taxonomy: Taxonomy,
    ) -> None:
        self.state = state
        self.reason = reason
        self.owner = owner
        self.override = override
        self.taxonomy = taxonomy
        self.refusal: str | None = None


def _condition(guard: Guard) -> Callable[[EventData], bool]:
    """A ``transitions`` condition that checks one guard and records why it failed."""

    def check(event: EventData) -> bool:
        carrier = cast(_Carrier, event.model)  # the machine's only models are carriers
        failed = guard_refusal(
            (guard,),
            reason=carrier.reason,
            owner=carrier.owner,
            override=carrier.override,
            taxonomy=carrier.taxonomy,
        )
        if failed is None:
            return True
        carrier.refusal = failed[1]
        return False

    check.__name__ = f"guard_{guard.value}"
    return check


_CONDITIONS = {guard: _condition(guard) for guard in Guard}


class LifecycleMachine:
    """One shared ``transitions.Machine`` for a lifecycle, and the adapter to frozen milestones."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle
        self.machine = Machine(
            model=None,
            states=list(lifecycle.state_names),
            initial=lifecycle.initial,
            auto_transitions=False,
            send_event=True,
            name=lifecycle.name,
        )
        for rule in lifecycle.transitions:
            self.machine.add_transition(
                rule.trigger,
                list(rule.sources),
                rule.dest,
                conditions=[_CONDITIONS[guard] for guard in ordered_guards(rule.guards)],
            )

    def fire(
        self,
        state: str,
        trigger: str,
        *,
        item: str,
        reason: str | None,
        owner: str | None,
        override: bool,
        taxonomy: Taxonomy,
    ) -> str:
        """Fire ``trigger`` from ``state`` on the machine; the state it leads to.

        Raises:
            InvalidTransition: The trigger is unknown, not allowed from ``state``, or a guard failed.
        """
        carrier = _Carrier(state, reason=reason, owner=owner, override=override, taxonomy=taxonomy)
        event = self.machine.events.get(trigger)
        try:
            moved = event is not None and event.trigger(carrier)
        except MachineError:
            moved = False
        if not moved:
            raise InvalidTransition(
                item=item,
                state=state,
                trigger=str(trigger),
                allowed=self.machine.get_triggers(state),
                reason=carrier.refusal,
            )
        return str(carrier.state)

    def apply(
        self,
        milestone: Milestone,
        trigger: str,
        *,
        reason: str | None,
        owner: str | None,
        override: bool,
        taxonomy: Taxonomy,
    ) -> Milestone:
        """The milestone after ``trigger``: state, status, owner and reason set accordingly."""
        dest = self.fire(
            milestone.state_name,
            trigger,
            item=milestone.id,
            reason=reason,
            owner=owner,
            override=override,
            taxonomy=taxonomy,
        )
        category = self._lifecycle.category(dest)
        blocked = category is MilestoneState.BLOCKED
        return attrs.evolve(
            milestone,
            state=category,
            status=None if dest == category.value else dest,
            # The guards of every rule into a blocked state guarantee both are given.
            owner=Owner(owner) if blocked and owner is not None else None,
            reason=reason if blocked else None,
        )
