"""Conditions on episodes: which episodes start, pause, stop or cancel an SLA clock.

An episode is a stretch of an item's history with one state, owner and reason (see
:mod:`servicedelivery.metrics`). A :class:`Condition` matches an episode when every facet it names
holds: its state is one of ``states``, its owner one of ``owners``, its reason one of ``reasons``,
and each named attribute has one of its listed values when the episode begins. A facet left empty
holds for every episode. Only blocked episodes have an owner and a reason, so a condition that names
owners or reasons matches blocked episodes only.

Conditions are compared without any data: two conditions *overlap* when some episode could match
both, which is how an SLA that would start and stop on the same episode is refused when loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.model import STATES, MilestoneState, Owner
from servicedelivery.model._validation import (
    Validated,
    checked,
    identifier,
    member_of,
    slug,
    to_tuple,
    tuple_of,
)

__all__ = ["Condition"]

_BLOCKED = MilestoneState.BLOCKED


def _attribute_values(value: object) -> object:
    """Attribute names to tuples of values, read-only; anything else is left for the check."""
    if not isinstance(value, Mapping):
        return value
    return MappingProxyType({name: to_tuple(values) for name, values in value.items()})


def _attributes_check(value: object) -> str | None:
    expected = (
        "a mapping of attribute names to non-empty tuples of distinct values (strings), "
        "with no reserved name such as 'state'"
    )
    if not isinstance(value, Mapping):
        return expected
    for name, values in value.items():
        if identifier(name) is not None or name in _RESERVED:
            return expected
        if tuple_of(identifier, unique=True)(values) is not None or not values:
            return expected
    return None


# The frame's own columns: a condition names them through states, owners and reasons instead.
_RESERVED = frozenset({"item", "time", "state", "owner", "reason", "event_id", "position"})


def _attributes_repr(value: object) -> str:
    return repr(dict(value)) if isinstance(value, Mapping) else repr(value)


@attrs.frozen(kw_only=True)
class Condition(Validated):
    """Which episodes match: all the facets named, each one of its listed values.

    Attributes:
        states: The canonical states matched; empty: any state.
        owners: The owners matched; empty: any owner, or none. Naming owners matches blocked
            episodes only (no other episode has an owner).
        reasons: The blocked reason codes matched; empty: any reason, or none. Naming reasons
            matches blocked episodes only.
        attributes: Frame attributes and the values matched, such as ``{"step": ("survey",)}``:
            the attribute's value in force when the episode begins (its first event's, else the
            last one recorded before it). Empty: any values.
    """

    states: tuple[MilestoneState, ...] = checked(
        tuple_of(member_of(MilestoneState), unique=True), converter=to_tuple, default=()
    )
    owners: tuple[Owner, ...] = checked(
        tuple_of(member_of(Owner), unique=True), converter=to_tuple, default=()
    )
    reasons: tuple[str, ...] = checked(tuple_of(slug, unique=True), converter=to_tuple, default=())
    attributes: Mapping[str, tuple[str, ...]] = checked(
        _attributes_check,
        converter=_attribute_values,
        factory=dict,
        hash=False,
        repr=_attributes_repr,
    )

    # --- reading the condition, without data -------------------------------------------------

    @property
    def blocked_only(self) -> bool:
        """Whether only blocked episodes can match (the condition names owners or reasons)."""
        return bool(self.owners or self.reasons)

    def matched_states(self) -> frozenset[MilestoneState]:
        """The canonical states an episode matching this condition can be in."""
        states = frozenset(self.states or STATES)
        return states & {_BLOCKED} if self.blocked_only else states

    def overlap(self, other: Condition) -> Condition | None:
        """The episodes that match both conditions, as a condition; ``None`` when no episode can.

        Used to refuse definitions that contradict themselves, and to say where they do.
        """
        states = self.matched_states() & other.matched_states()
        owners = _meet(self.owners, other.owners)
        reasons = _meet(self.reasons, other.reasons)
        attributes: dict[str, tuple[str, ...]] = {}
        for name in (*self.attributes, *other.attributes):
            values = _meet(self.attributes.get(name, ()), other.attributes.get(name, ()))
            if values is None:
                return None
            attributes[name] = values
        if not states or owners is None or reasons is None:
            return None
        return Condition(
            # Every state is written as none named, the way a condition says "any state".
            states=() if len(states) == len(STATES) else tuple(s for s in STATES if s in states),
            owners=owners,
            reasons=reasons,
            attributes=attributes,
        )

    def covers(self, state: MilestoneState) -> bool:
        """Whether every episode in ``state`` matches, whatever its owner, reason or attributes."""
        return (
            not (self.owners or self.reasons or self.attributes) and state in self.matched_states()
        )

    def describe(self) -> str:
        """The condition in words, for messages: ``"blocked episodes owned by customer"``."""
        states = self.states or tuple(STATES)
        if self.blocked_only:
            states = (_BLOCKED,)
        words = [" or ".join(state.value for state in states) + " episodes"]
        if self.owners:
            words.append("owned by " + " or ".join(owner.value for owner in self.owners))
        if self.reasons:
            words.append("for reason " + " or ".join(self.reasons))
        words.extend(
            f"with {name} {' or '.join(values)}" for name, values in self.attributes.items()
        )
        if not (self.states or self.blocked_only):
            words[0] = "episodes in any state"
        return " ".join(words)

    # --- matching episodes ---------------------------------------------------------------------

    def mask(
        self,
        *,
        state: npt.NDArray[np.int8],
        owner: npt.NDArray[np.int8],
        reason: npt.NDArray[np.int16],
        reason_codes: npt.NDArray[np.int16],
        attributes: Mapping[str, npt.NDArray[np.bool_]],
    ) -> npt.NDArray[np.bool_]:
        """Which episodes match, over whole columns of codes.

        Args:
            state: Each episode's state code (into ``STATES``).
            owner: Each episode's owner code (into ``OWNERS``, ``-1`` for none).
            reason: Each episode's reason code (into the frame's taxonomy, ``-1`` for none).
            reason_codes: The codes of :attr:`reasons` in the frame's taxonomy.
            attributes: Per attribute this condition names, whether each episode's value is one of
                the listed values.
        """
        matched = np.ones(len(state), dtype=np.bool_)
        # A lookup table per facet; codes shifted by one so that -1 (none) reads index 0.
        if self.states:
            matched &= _table(len(STATES), [STATES.index(s) for s in self.states])[state]
        if self.owners:
            matched &= _table(len(Owner) + 1, [_OWNER_CODES[o] + 1 for o in self.owners])[owner + 1]
        if self.reasons:
            size = max(int(reason.max(initial=-1)), int(reason_codes.max(initial=-1))) + 2
            matched &= _table(size, reason_codes + 1)[reason + 1]
        for name in self.attributes:
            matched &= attributes[name]
        return matched

    def matches(
        self,
        *,
        state: MilestoneState,
        owner: Owner | None,
        reason: str | None,
        attributes: Mapping[str, str | None],
    ) -> bool:
        """Whether one episode matches.

        Args:
            state: The episode's state.
            owner: Its owner, ``None`` unless blocked.
            reason: Its reason code, ``None`` unless blocked.
            attributes: The value in force when it began of each attribute this condition names.
        """
        return (
            (not self.states or state in self.states)
            and (not self.owners or owner in self.owners)
            and (not self.reasons or reason in self.reasons)
            and all(attributes.get(name) in values for name, values in self.attributes.items())
        )

    # --- data ----------------------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The condition as plain data: only the facets it names, each as a list."""
        data: dict[str, Any] = {}
        if self.states:
            data["state"] = [state.value for state in self.states]
        if self.owners:
            data["owner"] = [owner.value for owner in self.owners]
        if self.reasons:
            data["reason"] = list(self.reasons)
        if self.attributes:
            data["attributes"] = {name: list(values) for name, values in self.attributes.items()}
        return data


_OWNER_CODES = {owner: code for code, owner in enumerate(Owner)}


def _meet(first: tuple[Any, ...], second: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The values allowed by both facets (empty: any); ``None`` when none is."""
    if not first:
        return second
    if not second:
        return first
    both = tuple(value for value in first if value in second)
    return both or None


def _table(size: int, selected: object) -> npt.NDArray[np.bool_]:
    table = np.zeros(size, dtype=np.bool_)
    table[np.asarray(selected, dtype=np.intp)] = True
    return table
