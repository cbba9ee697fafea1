"""The lifecycle: one declared definition, and the three ways it is used.

A :class:`Lifecycle` is built from data (or in Python) and checked once. From it come the fast
scalar check :meth:`Lifecycle.next_state` (plain dictionary look-ups, for the event log's appends),
the ``transitions`` machine behind :meth:`Lifecycle.apply` (for single milestones), and the numpy
table :attr:`Lifecycle.table` (for whole histories). All three read the same rules, so they cannot
disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from servicedelivery.errors import DefinitionError, FieldError, InvalidTransition, ValidationError
from servicedelivery.lifecycle._definition import (
    Guard,
    LifecycleState,
    TransitionRule,
    definition_problems,
    guard_refusal,
    ordered_guards,
)
from servicedelivery.lifecycle._machine import LifecycleMachine
from servicedelivery.lifecycle._mermaid import mermaid
from servicedelivery.lifecycle._table import LifecycleTable
from servicedelivery.model import DEFAULT_TAXONOMY, Milestone, MilestoneState, Owner, Taxonomy
from servicedelivery.model._definitions import read_json

if TYPE_CHECKING:
    from transitions import Machine

__all__ = ["Lifecycle"]

_OWNER_VALUES = frozenset(owner.value for owner in Owner)
_OWNERS_TEXT = ", ".join(owner.value for owner in Owner)


def _as_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Lifecycle:
    """A milestone lifecycle: states, the triggers that move between them, and their guards.

    Build one with keyword arguments or from data (:meth:`from_data`); either way the whole
    definition is checked at once and every problem is reported with its path.

    Attributes:
        name: The lifecycle's name, a code (``"default"``).
        states: Its states; a state's code in columnar data is its index here.
        transitions: Its rules, in declared order; a trigger's code is its index in
            :attr:`trigger_names`, the triggers in order of first appearance here.
        initial: The state a new milestone is in.
        state_names: Every state's name, in code order.
        trigger_names: Every trigger's name, in code order.

    Raises:
        DefinitionError: The definition contradicts itself; every problem is listed.
    """

    name: str
    states: tuple[LifecycleState, ...] = attrs.field(converter=_as_tuple)
    transitions: tuple[TransitionRule, ...] = attrs.field(converter=_as_tuple)
    initial: str
    state_names: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    trigger_names: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    _categories: dict[str, MilestoneState] = attrs.field(init=False, eq=False, repr=False)
    _moves: dict[tuple[str, str], _Move] = attrs.field(init=False, eq=False, repr=False)
    _allowed: dict[str, tuple[str, ...]] = attrs.field(init=False, eq=False, repr=False)
    _machine: LifecycleMachine = attrs.field(init=False, eq=False, repr=False)
    _table: LifecycleTable | None = attrs.field(init=False, eq=False, repr=False, default=None)

    def __attrs_post_init__(self) -> None:
        # Typed as objects: the constructor may have been handed anything.
        given_states: tuple[object, ...] = self.states
        given_rules: tuple[object, ...] = self.transitions
        given_name: object = self.name
        given_initial: object = self.initial
        errors = [
            FieldError(f"states[{index}]", state, "a LifecycleState")
            for index, state in enumerate(given_states)
            if not isinstance(state, LifecycleState)
        ] + [
            FieldError(f"transitions[{index}]", rule, "a TransitionRule")
            for index, rule in enumerate(given_rules)
            if not isinstance(rule, TransitionRule)
        ]
        if not isinstance(given_name, str):
            errors.append(FieldError("name", given_name, "a string"))
        if not isinstance(given_initial, str):
            errors.append(FieldError("initial", given_initial, "a string"))
        if not errors:
            errors = definition_problems(self.name, self.states, self.transitions, self.initial)
        if errors:
            raise DefinitionError(errors, title=f"invalid lifecycle {self.name!r}")
        setattr_ = object.__setattr__
        setattr_(self, "state_names", tuple(state.name for state in self.states))
        setattr_(
            self, "trigger_names", tuple(dict.fromkeys(rule.trigger for rule in self.transitions))
        )
        setattr_(self, "_categories", {state.name: state.category for state in self.states})
        moves = {
            (source, rule.trigger): _Move.of(rule)
            for rule in self.transitions
            for source in rule.sources
        }
        setattr_(self, "_moves", moves)
        setattr_(
            self,
            "_allowed",
            {
                state: tuple(t for t in self.trigger_names if (state, t) in moves)
                for state in self.state_names
            },
        )
        setattr_(self, "_machine", LifecycleMachine(self))

    def __reduce__(self) -> tuple[Any, ...]:
        # The machine and the compiled table are rebuilt from the definition, never pickled.
        return (_rebuild, (self.name, self.states, self.transitions, self.initial))

    # -- The definition, read -------------------------------------------------------------------

    @property
    def terminal_states(self) -> tuple[str, ...]:
        """The states nothing leaves, in code order."""
        return tuple(state.name for state in self.states if state.terminal)

    def category(self, state: str) -> MilestoneState:
        """The canonical state that ``state`` belongs to.

        Raises:
            ValidationError: ``state`` is not a state of this lifecycle.
        """
        try:
            return self._categories[state]
        except (KeyError, TypeError):
            raise self._unknown_state("state", state) from None

    def state_code(self, state: str) -> int:
        """The code of ``state`` in columnar data: its index in :attr:`state_names`.

        Raises:
            ValidationError: ``state`` is not a state of this lifecycle.
        """
        self.category(state)
        return self.state_names.index(state)

    def trigger_code(self, trigger: str) -> int:
        """The code of ``trigger`` in columnar data: its index in :attr:`trigger_names`.

        Raises:
            ValidationError: ``trigger`` is not a trigger of this lifecycle.
        """
        given: object = trigger
        if isinstance(given, str) and given in self.trigger_names:
            return self.trigger_names.index(given)
        raise ValidationError.single(
            "trigger",
            trigger,
            f"a trigger of lifecycle {self.name!r} ({', '.join(self.trigger_names)})",
        )

    def allowed_triggers(self, state: str) -> tuple[str, ...]:
        """The triggers that may fire from ``state`` (guards permitting), in code order.

        Raises:
            ValidationError: ``state`` is not a state of this lifecycle.
        """
        try:
            return self._allowed[state]
        except (KeyError, TypeError):
            raise self._unknown_state("state", state) from None

    def _unknown_state(self, path: str, state: object) -> ValidationError:
        return ValidationError.single(
            path, state, f"a state of lifecycle {self.name!r} ({', '.join(self.state_names)})"
        )

    # -- Moving one milestone -------------------------------------------------------------------

    def next_state(
        self,
        state: str,
        trigger: str,
        *,
        reason: str | None = None,
        owner: str | None = None,
        override: bool = False,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
        item: str = "",
    ) -> str:
        """Where ``trigger`` takes a milestone in ``state``, checked without the machine.

        Plain dictionary look-ups, for callers that check every event (the event log on append).
        Agrees with :meth:`apply` and with :attr:`table` on every input.

        Args:
            state: The milestone's current state name.
            trigger: The trigger's name.
            reason: The event's blocked reason code, if any.
            owner: The event's owner (an ``Owner`` or its value), if any.
            override: Whether the owner is an explicit override of the reason's default owner.
            taxonomy: The taxonomy the reason belongs to.
            item: The milestone's id, for the error message.

        Returns:
            The name of the state the trigger leads to.

        Raises:
            InvalidTransition: The trigger is unknown or not allowed from ``state``, or a guard
                failed (``reason`` on the error says which).
            ValidationError: ``state`` is not a state of this lifecycle, or the reason, owner or
                override is not a valid value.
        """
        try:
            move = self._moves.get((state, trigger))
        except TypeError:  # an unhashable state or trigger
            move = None
        # The common cases first, inline: this runs on every event an event log records. Typed
        # as objects: callers may pass anything, and bad values must be refused.
        given_reason: object = reason
        given_owner: object = owner
        if not (
            (given_reason is None or (isinstance(given_reason, str) and given_reason in taxonomy))
            and (
                given_owner is None
                or (isinstance(given_owner, str) and given_owner in _OWNER_VALUES)
            )
            and (override is False or override is True)
        ):
            _check_details(reason, owner, override, taxonomy)
        if move is None:
            raise self._refusal(state, trigger, item)
        if move.guards and (
            (move.needs_reason and reason is None)
            or (move.needs_owner and owner is None)
            or (
                move.owner_matches
                and reason is not None
                and not override
                and owner != taxonomy.require(reason).owner
            )
        ):
            failed = guard_refusal(
                move.guards, reason=reason, owner=owner, override=override, taxonomy=taxonomy
            )
            raise InvalidTransition(
                item=item,
                # Plain strings, also for enum members (a StrEnum's str() is its value).
                state=str(state),
                trigger=str(trigger),
                allowed=self._allowed[state],
                reason=None if failed is None else failed[1],
            )
        return move.dest

    def _refusal(self, state: object, trigger: object, item: str) -> Exception:
        if not isinstance(state, str) or state not in self._allowed:
            return self._unknown_state("state", state)
        if not isinstance(trigger, str):
            return ValidationError.single(
                "trigger", trigger, f"a trigger name ({', '.join(self.trigger_names)})"
            )
        return InvalidTransition(
            item=item, state=str(state), trigger=str(trigger), allowed=self._allowed[state]
        )

    def apply(
        self,
        milestone: Milestone,
        trigger: str,
        *,
        reason: str | None = None,
        owner: str | None = None,
        override: bool = False,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
    ) -> Milestone:
        """Fire ``trigger`` on ``milestone`` through the lifecycle's ``transitions`` machine.

        The milestone is not changed (it is frozen); the result is a new one. Entering a blocked
        state sets its owner and reason from the event; leaving one clears them. In a custom state
        ``status`` holds the state's name and ``state`` its category.

        Args:
            milestone: The milestone to move; its :attr:`~servicedelivery.model.Milestone.state_name`
                must be a state of this lifecycle.
            trigger: The trigger's name.
            reason: The blocked reason code, for triggers into a blocked state.
            owner: Who must act (an ``Owner`` or its value), for triggers into a blocked state.
            override: Whether ``owner`` deliberately differs from the reason's default owner.
            taxonomy: The taxonomy the reason belongs to.

        Returns:
            The milestone after the transition.

        Raises:
            InvalidTransition: Naming the milestone, its state, the trigger and the triggers
                allowed from there (and, when a guard failed, why).
            ValidationError: The milestone is not in a state of this lifecycle, or the reason,
                owner or override is not a valid value.
        """
        if not isinstance(milestone, Milestone):
            raise ValidationError.single("milestone", milestone, "a Milestone")
        name = milestone.state_name
        if name not in self._categories:
            path = "milestone.state" if milestone.status is None else "milestone.status"
            raise self._unknown_state(path, name)
        if self._categories[name] is not milestone.state:
            raise ValidationError.single(
                "milestone.state",
                milestone.state.value,
                f"{self._categories[name].value!r}, the category of state {name!r}",
            )
        _check_details(reason, owner, override, taxonomy)
        return self._machine.apply(
            milestone, trigger, reason=reason, owner=owner, override=override, taxonomy=taxonomy
        )

    # -- Other forms ----------------------------------------------------------------------------

    @property
    def machine(self) -> Machine:
        """The shared ``transitions.Machine`` behind :meth:`apply`, with no registered model.

        For inspection (``machine.get_triggers(state)``, diagrams with the ``transitions``
        extensions); add no model to it and change nothing on it.
        """
        return self._machine.machine

    @property
    def table(self) -> LifecycleTable:
        """The lifecycle compiled to numpy arrays, for validating whole histories at once."""
        table = self._table
        if table is None:
            table = LifecycleTable(self)
            # Compiled once, on first use; a race only compiles the same table twice.
            object.__setattr__(self, "_table", table)
        return table

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram (``stateDiagram-v2``)."""
        return mermaid(self)

    def extended(
        self,
        *,
        name: str,
        states: Iterable[LifecycleState] = (),
        transitions: Iterable[TransitionRule] = (),
        remove: Iterable[str] = (),
        initial: str | None = None,
    ) -> Lifecycle:
        """A new lifecycle built on this one.

        Args:
            name: The new lifecycle's name.
            states: States to add; one named like an existing state replaces it in place.
            transitions: Rules to add. The rules given for a trigger that already exists replace
                all of its rules (keeping its code); rules for new triggers come after.
            remove: Triggers to drop, with all their rules.
            initial: The new initial state; this one's by default.

        Raises:
            DefinitionError: The result contradicts itself.
        """
        new_states = list(states)
        replaced = {state.name: state for state in new_states}
        merged_states = [replaced.pop(state.name, state) for state in self.states]
        merged_states.extend(s for s in new_states if s.name in replaced)
        new_rules = list(transitions)
        by_trigger: dict[str, list[TransitionRule]] = {}
        for rule in new_rules:
            by_trigger.setdefault(rule.trigger, []).append(rule)
        dropped = set(remove)
        merged_rules: list[TransitionRule] = []
        for rule in self.transitions:
            if rule.trigger in dropped:
                continue
            if rule.trigger in by_trigger:
                merged_rules.extend(by_trigger.pop(rule.trigger))
                dropped.add(rule.trigger)  # its other old rules are replaced too
                continue
            merged_rules.append(rule)
        merged_rules.extend(rule for rule in new_rules if rule.trigger in by_trigger)
        return Lifecycle(
            name=name,
            states=merged_states,
            transitions=merged_rules,
            initial=self.initial if initial is None else initial,
        )

    @classmethod
    def from_data(cls, data: object) -> Lifecycle:
        """Load a lifecycle from plain data (as parsed from JSON).

        The format is in the data formats reference: ``name``, ``initial``, ``states`` and
        ``transitions``, or ``"extends": "default"`` with the states and rules to add, replace
        (``transitions`` for an existing trigger) or ``remove``.

        Raises:
            DefinitionError: Listing every problem with its path.
        """
        # The data boundary builds lifecycles, so it is imported here, not at the top.
        from servicedelivery.lifecycle._data import lifecycle_from_data  # noqa: PLC0415

        return lifecycle_from_data(data)

    @classmethod
    def from_json(cls, text: str) -> Lifecycle:
        """Load a lifecycle from a JSON document; see :meth:`from_data`."""
        return cls.from_data(read_json(text))

    def to_data(self) -> dict[str, Any]:
        """The lifecycle as plain data, in full, that :meth:`from_data` reads back unchanged."""
        return {
            "name": self.name,
            "initial": self.initial,
            "states": [
                {
                    "name": state.name,
                    "category": state.category.value,
                    "terminal": state.terminal,
                    "description": state.description,
                }
                for state in self.states
            ],
            "transitions": [
                {
                    "trigger": rule.trigger,
                    "sources": list(rule.sources),
                    "dest": rule.dest,
                    "guards": [guard.value for guard in rule.guards],
                    "description": rule.description,
                }
                for rule in self.transitions
            ],
        }


class _Move(NamedTuple):
    """Where a trigger leads from one state, and its guards unpacked for the scalar check."""

    dest: str
    guards: tuple[Guard, ...]
    needs_reason: bool
    needs_owner: bool
    owner_matches: bool

    @classmethod
    def of(cls, rule: TransitionRule) -> _Move:
        return cls(
            rule.dest,
            ordered_guards(rule.guards),
            Guard.NEEDS_REASON in rule.guards,
            Guard.NEEDS_OWNER in rule.guards,
            Guard.OWNER_MATCHES_REASON in rule.guards,
        )


def _rebuild(
    name: str,
    states: tuple[LifecycleState, ...],
    transitions: tuple[TransitionRule, ...],
    initial: str,
) -> Lifecycle:
    return Lifecycle(name=name, states=states, transitions=transitions, initial=initial)


def _check_details(reason: object, owner: object, override: object, taxonomy: Taxonomy) -> None:
    """Refuse an event's details that are not valid values, all of them at once."""
    errors = []
    if reason is not None and not (isinstance(reason, str) and reason in taxonomy):
        errors.append(
            FieldError(
                "reason", reason, f"a reason code of the taxonomy ({', '.join(taxonomy.codes)})"
            )
        )
    if owner is not None and not (isinstance(owner, str) and owner in _OWNER_VALUES):
        errors.append(FieldError("owner", owner, f"an Owner ({_OWNERS_TEXT})"))
    if not isinstance(override, bool):
        errors.append(FieldError("override", override, "true or false"))
    if errors:
        raise ValidationError(errors)
