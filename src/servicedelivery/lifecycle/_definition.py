"""The parts of a lifecycle definition: states, transition rules and guards, and their checks.

A lifecycle is data. These classes hold one declared state and one declared rule each; the checks
that need the whole definition (reachability, terminal states, the blocked rule) live in
:func:`definition_problems`, which :class:`~servicedelivery.lifecycle.Lifecycle` runs when it is
built, so that a wrong definition is refused before anything uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum, unique

import attrs

from servicedelivery.errors import FieldError
from servicedelivery.model import MilestoneState, Taxonomy
from servicedelivery.model._validation import (
    Validated,
    checked,
    member_of,
    slug,
    text,
    to_tuple,
    tuple_of,
)

__all__ = [
    "MAX_STATES",
    "Guard",
    "LifecycleState",
    "TransitionRule",
    "definition_problems",
    "guard_refusal",
    "ordered_guards",
]

MAX_STATES = 127
"""State codes are ``int8`` in columnar data, so a lifecycle has at most this many states."""


@unique
class Guard(StrEnum):
    """A condition a transition declares on the details an event carries.

    Guards read only the event (its reason, owner and override flag), never the milestone, so a
    table can check them over whole columns at once. They are checked in this order, and a refusal
    names the first that fails.
    """

    NEEDS_REASON = "needs_reason"
    """The event names a blocked reason (a code of the taxonomy)."""
    NEEDS_OWNER = "needs_owner"
    """The event names the owner who must act."""
    OWNER_MATCHES_REASON = "owner_matches_reason"
    """The owner is the reason's default owner, unless the event declares an explicit override."""

    @property
    def phrase(self) -> str:
        """What the guard asks for, as a short phrase for diagrams and messages."""
        return _GUARD_PHRASES[self]


_GUARD_PHRASES = {
    Guard.NEEDS_REASON: "reason",
    Guard.NEEDS_OWNER: "owner",
    Guard.OWNER_MATCHES_REASON: "owner of reason or override",
}
_GUARD_ORDER = {guard: index for index, guard in enumerate(Guard)}


def ordered_guards(guards: Iterable[Guard]) -> tuple[Guard, ...]:
    """The guards in checking order (the order of :class:`Guard`), whatever the declared order."""
    return tuple(sorted(guards, key=_GUARD_ORDER.__getitem__))


def _flag(value: object) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def _sources(value: object) -> str | None:
    expected = tuple_of(slug, unique=True)(value)
    if expected is None and value:
        return None
    return "at least one source state, each a code, without repeats"


def _guards(value: object) -> str | None:
    expected = tuple_of(member_of(Guard), unique=True)(value)
    return None if expected is None else f"{expected} (guards)"


@attrs.frozen
class LifecycleState(Validated):
    """One state of a lifecycle.

    Attributes:
        name: The state's name, a code such as ``"awaiting_acceptance"``; its code in columnar data
            is its index in the lifecycle's states.
        category: The canonical state it belongs to, which metrics and policies read. A state named
            like a canonical state must belong to it.
        terminal: Whether nothing leaves it. A terminal state with an exit is an error, and so is a
            state without exits that is not declared terminal.
        description: What the state means, for people.
    """

    name: str = checked(slug)
    category: MilestoneState = checked(member_of(MilestoneState))
    terminal: bool = checked(_flag, default=False)
    description: str = checked(text, default="")


@attrs.frozen
class TransitionRule(Validated):
    """One declared move: a trigger that takes a milestone from any of ``sources`` to ``dest``.

    Attributes:
        trigger: The trigger's name, a code such as ``"block"``. Several rules may share a trigger
            (from different sources); from each source a trigger leads to one state only.
        sources: The states the trigger may fire from, at least one, without repeats.
        dest: The state it leads to.
        guards: What the event must carry. Every rule into a blocked state needs a reason and an
            owner; rules into other states declare none, since a milestone there holds neither.
        description: What the move means, for people.
    """

    trigger: str = checked(slug)
    sources: tuple[str, ...] = checked(_sources, converter=to_tuple)
    dest: str = checked(slug)
    guards: tuple[Guard, ...] = checked(_guards, converter=to_tuple, default=())
    description: str = checked(text, default="")


def guard_refusal(
    guards: Iterable[Guard],
    *,
    reason: str | None,
    owner: str | None,
    override: bool,
    taxonomy: Taxonomy,
) -> tuple[Guard, str] | None:
    """The first guard an event fails, with why; ``None`` when it passes them all.

    The reason, when given, must already be a code of ``taxonomy`` and the owner an ``Owner``
    value: this reads the event, it does not validate it.

    Args:
        guards: The guards to check, in checking order (see :func:`ordered_guards`).
        reason: The event's reason code.
        owner: The event's owner.
        override: Whether the event declares an explicit owner override.
        taxonomy: Where the reason's default owner is looked up.
    """
    for guard in guards:
        if guard is Guard.NEEDS_REASON and reason is None:
            return guard, "a blocked reason is required (reason=...)"
        if guard is Guard.NEEDS_OWNER and owner is None:
            return guard, "an owner is required (owner=...)"
        if guard is Guard.OWNER_MATCHES_REASON and reason is not None and not override:
            default = taxonomy.require(reason).owner
            if owner != default:
                return guard, (
                    f"owner {str(owner)!r} is not the owner of reason {reason!r} "
                    f"({default.value!r}); pass override=True to assign it anyway"
                )
    return None


def definition_problems(
    name: str,
    states: Sequence[LifecycleState],
    transitions: Sequence[TransitionRule],
    initial: str,
) -> list[FieldError]:
    """Every problem of a lifecycle definition, each with its path; empty when it is sound.

    Args:
        name: The lifecycle's name.
        states: Its states, in code order.
        transitions: Its rules, in declared order.
        initial: The state a new milestone is in.
    """
    errors: list[FieldError] = []
    if slug(name) is not None:
        errors.append(FieldError("name", name, "a code such as 'default' (lowercase, digits, _)"))
    errors.extend(_state_problems(states))
    known = {state.name: index for index, state in reversed(list(enumerate(states)))}
    if initial not in known:
        errors.append(FieldError("initial", initial, _one_of("a declared state", known)))
    if not transitions:
        errors.append(FieldError("transitions", list(transitions), "at least one transition"))
    errors.extend(_rule_problems(states, transitions, known))
    errors.extend(_exit_problems(states, transitions))
    if initial in known:
        errors.extend(_reachability_problems(states, transitions, initial))
    return errors


def _one_of(what: str, names: Iterable[str]) -> str:
    return f"{what} ({', '.join(names)})"


def _state_problems(states: Sequence[LifecycleState]) -> Iterable[FieldError]:
    if not states:
        yield FieldError("states", list(states), "at least one state")
    if len(states) > MAX_STATES:
        yield FieldError("states", f"{len(states)} states", f"at most {MAX_STATES} states")
    first: dict[str, int] = {}
    canonical = {state.value: state for state in MilestoneState}
    for index, state in enumerate(states):
        if state.name in first:
            yield FieldError(
                f"states[{index}].name",
                state.name,
                f"a name not already used by states[{first[state.name]}]",
            )
        first.setdefault(state.name, index)
        wanted = canonical.get(state.name)
        if wanted is not None and state.category is not wanted:
            yield FieldError(
                f"states[{index}].category",
                state.category.value,
                f"{wanted.value!r}, the canonical state a state named {state.name!r} belongs to",
            )


def _rule_problems(
    states: Sequence[LifecycleState],
    transitions: Sequence[TransitionRule],
    known: dict[str, int],
) -> Iterable[FieldError]:
    declared = _one_of("a declared state", known)
    used: dict[tuple[str, str], int] = {}
    for index, rule in enumerate(transitions):
        path = f"transitions[{index}]"
        for position, source in enumerate(rule.sources):
            if source not in known:
                yield FieldError(f"{path}.sources[{position}]", source, declared)
            elif (rule.trigger, source) in used:
                yield FieldError(
                    f"{path}.sources[{position}]",
                    source,
                    f"a source not already used by transitions[{used[rule.trigger, source]}] "
                    f"for trigger {rule.trigger!r} (from a state, a trigger leads to one state)",
                )
            else:
                used[rule.trigger, source] = index
        if rule.dest not in known:
            yield FieldError(f"{path}.dest", rule.dest, declared)
            continue
        category = states[known[rule.dest]].category
        if category is MilestoneState.BLOCKED:
            missing = {Guard.NEEDS_REASON, Guard.NEEDS_OWNER} - set(rule.guards)
            if missing:
                yield FieldError(
                    f"{path}.guards",
                    [guard.value for guard in rule.guards],
                    f"needs_reason and needs_owner: {rule.dest!r} is a blocked state, and a "
                    "blocked milestone always carries a reason and an owner",
                )
        elif rule.guards:
            yield FieldError(
                f"{path}.guards",
                [guard.value for guard in rule.guards],
                f"no guards: {rule.dest!r} is not a blocked state, so a milestone there holds no "
                "reason or owner to check",
            )


def _exit_problems(
    states: Sequence[LifecycleState], transitions: Sequence[TransitionRule]
) -> Iterable[FieldError]:
    exits: dict[str, int] = {}
    for index, rule in enumerate(transitions):
        for source in rule.sources:
            exits.setdefault(source, index)
    for index, state in enumerate(states):
        if state.terminal and state.name in exits:
            rule = transitions[exits[state.name]]
            yield FieldError(
                f"states[{index}].terminal",
                True,
                f"false, since transitions[{exits[state.name]}] ({rule.trigger!r}) leaves "
                f"{state.name!r}; a terminal state has no exits",
            )
        elif not state.terminal and state.name not in exits:
            yield FieldError(
                f"states[{index}].terminal",
                False,
                f"true, since no transition leaves {state.name!r} (or add a transition from it)",
            )


def _reachability_problems(
    states: Sequence[LifecycleState], transitions: Sequence[TransitionRule], initial: str
) -> Iterable[FieldError]:
    # A breadth-first walk over the declared rules: a loop over states and rules, at build time.
    reached = {initial}
    frontier = [initial]
    while frontier:
        here = frontier.pop()
        for rule in transitions:
            if here in rule.sources and rule.dest not in reached:
                reached.add(rule.dest)
                frontier.append(rule.dest)
    for index, state in enumerate(states):
        if state.name not in reached:
            yield FieldError(
                f"states[{index}]",
                state.name,
                f"a state reachable from the initial state {initial!r} by some transition",
            )
