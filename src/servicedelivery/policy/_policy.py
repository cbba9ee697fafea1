"""Item policies as data: a condition, an action, escalation levels, noise controls and overrides.

A policy watches every item in its scope. When its condition has held long enough it raises an
escalation to the first level's target, escalates up as further levels are reached, re-notifies
after the repeat interval, and clears once the condition has been false for ``clear_after``.
Overrides give a region, a provider (or any combination of attributes) its own condition, levels or
noise controls; for each item the most specific override that matches wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum, unique
from typing import Any

import attrs

from servicedelivery.errors import MISSING, DefinitionError, FieldError, join_path
from servicedelivery.model._definitions import read_json
from servicedelivery.model._validation import (
    checked,
    instance_of,
    member_of,
    optional,
    slug,
    text,
    to_tuple,
    tuple_of,
)
from servicedelivery.policy._conditions import _CONDITION_TYPES, Condition, condition_from_data
from servicedelivery.policy._durations import Clock, Duration
from servicedelivery.policy._targets import (
    Definition,
    Level,
    Scope,
    Target,
    build,
    read_duration,
    read_scope,
    read_target,
    to_enum,
    unknown,
)

__all__ = ["Action", "Override", "Policy", "Variant"]

_POLICY_KEYS = (
    "name",
    "description",
    "scope",
    "when",
    "action",
    "to",
    "levels",
    "hold",
    "repeat",
    "clear_after",
    "playbook",
    "overrides",
)
_OVERRIDE_KEYS = ("scope", "when", "to", "levels", "hold", "repeat", "clear_after", "playbook")
_NOISE = ("hold", "repeat", "clear_after")


@unique
class Action(StrEnum):
    """What a policy does with the items whose condition holds."""

    ESCALATE = "escalate"
    """Escalate through levels, each to an owner or a queue."""
    ROUTE = "route"
    """Send the item to a queue (or owner) that must act on it."""
    TAG = "tag"
    """Put the item in a proactive queue, such as ``sla_at_risk`` or ``target_date_at_risk``."""


def _condition(value: object) -> str | None:
    return None if isinstance(value, _CONDITION_TYPES) else "a condition"


def _optional_condition(value: object) -> str | None:
    return None if value is None else _condition(value)


def _optional_duration(value: object) -> str | None:
    return optional(instance_of(Duration))(value)


def _noise_duration(value: object) -> str | None:
    """A hold or clearing delay: no duration, or one of at least nothing."""
    if (problem := _optional_duration(value)) is not None:
        return problem
    return "a duration >= 0" if isinstance(value, Duration) and value.negative else None


def _repeat_duration(value: object) -> str | None:
    """A repeat interval: no duration, or one longer than nothing."""
    if (problem := _optional_duration(value)) is not None:
        return problem
    if isinstance(value, Duration):
        zero = (value.days == 0) if value.in_business_days else value.ns == 0
        if value.negative or zero:
            return "a duration > 0"
    return None


@attrs.frozen
class Override(Definition):
    """A scope's own version of some of a policy's parts; the parts it leaves out are the policy's.

    Attributes:
        scope: The items it applies to (within the policy's own scope).
        when: Its condition, instead of the policy's.
        to: Its target (route and tag policies).
        levels: Its levels (escalate policies).
        hold: Its hold time.
        repeat: Its repeat interval.
        clear_after: Its clearing delay.
        playbook: Its playbook.
    """

    scope: Scope = checked(instance_of(Scope))
    when: Condition | None = checked(_optional_condition, default=None)
    to: Target | None = checked(optional(instance_of(Target)), default=None)
    levels: tuple[Level, ...] | None = checked(
        optional(tuple_of(instance_of(Level))), default=None, converter=to_tuple
    )
    hold: Duration | None = checked(_noise_duration, default=None)
    repeat: Duration | None = checked(_repeat_duration, default=None)
    clear_after: Duration | None = checked(_noise_duration, default=None)
    playbook: str | None = checked(optional(text), default=None)

    def _check_together(self) -> Iterable[FieldError]:
        changes = [name for name in _OVERRIDE_KEYS[1:] if getattr(self, name) is not None]
        if not changes:
            yield FieldError("", MISSING, "an override that changes something besides its scope")
        if self.levels is not None:
            yield from _level_problems(self.levels)

    def to_data(self) -> dict[str, Any]:
        """The override as data; parts it does not change are left out."""
        data: dict[str, Any] = {"scope": self.scope.to_data()}
        data.update(_parts_data(self, _OVERRIDE_KEYS[1:]))
        return data


@attrs.frozen
class Variant:
    """A policy as it applies to the items of one scope: its overrides resolved.

    Attributes:
        policy: The policy.
        override: The index of the override applied, ``-1`` for the policy itself.
        scope: The override's scope (``None`` for the policy itself); the policy's scope applies
            too.
        when: The condition.
        levels: The levels, in order (route and tag policies have one, to their target).
        hold: How long the condition must hold before anything fires.
        repeat: How often an open escalation is re-notified.
        clear_after: How long the condition must be false before the escalation clears.
        playbook: What to do, for people.
    """

    policy: Policy
    override: int
    scope: Scope | None
    when: Condition
    levels: tuple[Level, ...]
    hold: Duration | None
    repeat: Duration | None
    clear_after: Duration | None
    playbook: str | None


@attrs.frozen
class Policy(Definition):
    """An item policy: when its condition holds long enough, escalate, route or tag the item.

    Build one in Python, or read it with :meth:`from_data` / :meth:`from_json`; :meth:`to_data`
    gives the data back unchanged.

    Attributes:
        name: Its code, such as ``"provider_block"``; recorded with every escalation.
        when: The condition.
        action: Escalate, route or tag.
        to: The target of a route or tag policy.
        levels: The levels of an escalate policy, in order.
        scope: The items it covers (all items when ``None``).
        hold: How long the condition must hold before anything fires (no wait when ``None``).
        repeat: How often an open escalation is re-notified (never when ``None``).
        clear_after: How long the condition must be false before the escalation clears
            (at once when ``None``).
        playbook: What the people it reaches should do.
        description: What it is for.
        overrides: Scoped versions of some of its parts; the most specific that matches wins.
    """

    name: str = checked(slug)
    when: Condition = checked(_condition)
    action: Action = checked(member_of(Action), converter=to_enum(Action))
    to: Target | None = checked(optional(instance_of(Target)), default=None)
    levels: tuple[Level, ...] = checked(
        tuple_of(instance_of(Level)), default=(), converter=to_tuple
    )
    scope: Scope | None = checked(optional(instance_of(Scope)), default=None)
    hold: Duration | None = checked(_noise_duration, default=None)
    repeat: Duration | None = checked(_repeat_duration, default=None)
    clear_after: Duration | None = checked(_noise_duration, default=None)
    playbook: str | None = checked(optional(text), default=None)
    description: str | None = checked(optional(text), default=None)
    overrides: tuple[Override, ...] = checked(
        tuple_of(instance_of(Override)), default=(), converter=to_tuple
    )
    _variants: tuple[Variant, ...] = attrs.field(
        init=False, default=(), eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # Worked out once: a service checks one item against the same policies many times.
        object.__setattr__(self, "_variants", self._resolve_variants())

    def _check_together(self) -> Iterator[FieldError]:
        yield from _action_problems(self.action, self.to, self.levels, "")
        yield from _level_problems(self.levels)
        seen: dict[Scope, int] = {}
        for index, override in enumerate(self.overrides):
            where = f"overrides[{index}]"
            yield from _action_problems(self.action, override.to, override.levels, where)
            if override.scope in seen:
                yield FieldError(
                    f"{where}.scope",
                    override.scope.to_data(),
                    f"a scope not already used by overrides[{seen[override.scope]}]",
                )
            seen.setdefault(override.scope, index)
            yield from _nested_scope_problems(self.scope, override.scope, f"{where}.scope")

    # ------------------------------------------------------------------------------- variants

    def variants(self) -> tuple[Variant, ...]:
        """The policy as it applies to each scope, most specific first, the policy itself last.

        An item takes the first variant whose scope it matches: the override that constrains the
        most attributes, and among equally specific ones the one listed first.
        """
        return self._variants

    def _resolve_variants(self) -> tuple[Variant, ...]:
        ordered = sorted(
            range(len(self.overrides)), key=lambda i: (-self.overrides[i].scope.specificity, i)
        )
        variants = [self._variant(index) for index in ordered]
        variants.append(self._variant(-1))
        return tuple(variants)

    def _variant(self, index: int) -> Variant:
        part: Policy | Override = self if index < 0 else self.overrides[index]

        def pick(name: str) -> Any:
            value = getattr(part, name)
            return getattr(self, name) if value is None else value

        levels: tuple[Level, ...] = pick("levels") or ()
        if not levels:
            levels = (Level(to=pick("to")),)
        return Variant(
            policy=self,
            override=index,
            scope=None if index < 0 else self.overrides[index].scope,
            when=pick("when"),
            levels=levels,
            hold=pick("hold"),
            repeat=pick("repeat"),
            clear_after=pick("clear_after"),
            playbook=pick("playbook"),
        )

    # ----------------------------------------------------------------------------------- data

    def to_data(self) -> dict[str, Any]:
        """The policy as plain data that :meth:`from_data` reads back unchanged."""
        data: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            data["description"] = self.description
        if self.scope is not None:
            data["scope"] = self.scope.to_data()
        data["when"] = self.when.to_data()
        data["action"] = self.action.value
        data.update(
            _parts_data(self, ("to", "levels", "hold", "repeat", "clear_after", "playbook"))
        )
        if self.overrides:
            data["overrides"] = [override.to_data() for override in self.overrides]
        return data

    @classmethod
    def from_data(cls, data: object) -> Policy:
        """Read a policy from plain data (as parsed from JSON); see the docs for the format.

        Raises:
            DefinitionError: Listing every problem with its path, such as ``when.all_of[1].gt``.
        """
        errors: list[FieldError] = []
        policy = policy_from_data(data, errors, "")
        if errors or policy is None:
            raise DefinitionError(errors or [FieldError("", data, "a policy")],
                                  title="invalid policy")  # fmt: skip
        return policy

    @classmethod
    def from_json(cls, text: str) -> Policy:
        """Read a policy from a JSON document; see :meth:`from_data`."""
        return cls.from_data(read_json(text))


# -------------------------------------------------------------------------------------- checks


def _action_problems(
    action: object, to: Target | None, levels: tuple[Level, ...] | None, where: str
) -> Iterator[FieldError]:
    if action is Action.ESCALATE:
        if to is not None:
            yield FieldError(
                join_path(where, "to"), to.to_data(), "no 'to' (escalate policies use levels)"
            )
        if not where and not levels:
            yield FieldError("levels", [], "at least one level for an escalate policy")
    elif isinstance(action, Action):
        if levels is not None and (levels or where):
            yield FieldError(
                join_path(where, "levels"),
                [level.to_data() for level in levels],
                f"no levels ({action.value} policies send to one target: use 'to')",
            )
        if not where and to is None:
            yield FieldError("to", MISSING, f"a target for a {action.value} policy")


def _unit(duration: Duration) -> tuple[Clock, bool]:
    return duration.clock, duration.in_business_days


def _amount(duration: Duration) -> object:
    return duration.days if duration.in_business_days else duration.ns


def _level_problems(levels: tuple[Level, ...]) -> Iterator[FieldError]:
    previous: Level | None = None
    for index, level in enumerate(levels):
        where = f"levels[{index}]"
        if previous is not None:
            before = previous.after
            after = level.after
            if before is not None and after is not None and _unit(before) != _unit(after):
                yield FieldError(
                    f"{where}.after",
                    after.to_data(),
                    f"a duration in the same clock and unit as levels[{index - 1}].after "
                    f"({before.to_data()!r})",
                )
            elif _amount_of(after) < _amount_of(before):
                yield FieldError(
                    f"{where}.after",
                    None if after is None else after.to_data(),
                    f"at least levels[{index - 1}].after: a higher level comes later",
                )
            elif _amount_of(after) == _amount_of(before) and level.when is None:
                yield FieldError(
                    where,
                    level.to_data(),
                    f"a longer 'after' than levels[{index - 1}], or a 'when' of its own "
                    "(otherwise both levels would always fire together)",
                )
        previous = level


def _amount_of(duration: Duration | None) -> Any:
    return 0 if duration is None else _amount(duration)


def _nested_scope_problems(outer: Scope | None, inner: Scope, where: str) -> Iterator[FieldError]:
    if outer is None:
        return
    for name in inner.attributes:
        if name in outer.attributes and not set(inner.values(name)) <= set(outer.values(name)):
            yield FieldError(
                f"{where}.{name}",
                inner.to_data()[name],
                f"values within the policy's scope ({list(outer.values(name))})",
            )


def _parts_data(part: Policy | Override, names: tuple[str, ...]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in names:
        value = getattr(part, name)
        if value is None or (name == "levels" and value == ()):
            continue
        if name == "levels":
            data[name] = [level.to_data() for level in value]
        elif isinstance(value, str):
            data[name] = value
        else:
            data[name] = value.to_data()
    return data


# ---------------------------------------------------------------------------------- from data


def _read_parts(
    data: Mapping[Any, Any], names: tuple[str, ...], errors: list[FieldError], path: str
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name in names:
        if name not in data:
            continue
        value = data[name]
        where = join_path(path, name)
        if name in ("hold", "repeat", "clear_after"):
            kwargs[name] = read_duration(value, errors, where)
        elif name == "to":
            kwargs[name] = read_target(value, errors, where)
        elif name == "when":
            kwargs[name] = condition_from_data(value, errors, where)
        elif name == "scope":
            kwargs[name] = read_scope(value, errors, where)
        elif name == "levels":
            if not isinstance(value, list):
                errors.append(FieldError(where, value, "a list of levels"))
                kwargs[name] = None
            else:
                levels = tuple(
                    Level.from_data(item, errors, f"{where}[{index}]")
                    for index, item in enumerate(value)
                )
                kwargs[name] = None if None in levels else levels
        elif isinstance(value, str):
            kwargs[name] = value
        else:
            errors.append(FieldError(where, value, "a string"))
            kwargs[name] = None
    return kwargs


def _override_from_data(data: object, errors: list[FieldError], path: str) -> Override | None:
    if not isinstance(data, Mapping):
        errors.append(FieldError(path, data, "an override: a mapping with a 'scope'"))
        return None
    start = len(errors)
    errors.extend(unknown(data, _OVERRIDE_KEYS, path))
    if "scope" not in data:
        errors.append(FieldError(join_path(path, "scope"), MISSING, "the override's scope"))
    kwargs = _read_parts(data, _OVERRIDE_KEYS, errors, path)
    return build(Override, kwargs, errors, path, start)  # type: ignore[no-any-return]


def policy_from_data(data: object, errors: list[FieldError], path: str) -> Policy | None:
    """An item policy from data; problems go to ``errors`` with paths under ``path``."""
    if not isinstance(data, Mapping):
        errors.append(FieldError(path, data, "a policy: a mapping with name, when and action"))
        return None
    start = len(errors)
    errors.extend(unknown(data, _POLICY_KEYS, path))
    errors.extend(
        FieldError(join_path(path, name), MISSING, f"the policy's {name}")
        for name in ("name", "when", "action")
        if name not in data
    )
    kwargs = _read_parts(data, _POLICY_KEYS[1:-1], errors, path)
    for name in ("name", "action"):
        if name in data:
            kwargs[name] = data[name]
    if "overrides" in data:
        raw = data["overrides"]
        where = join_path(path, "overrides")
        if not isinstance(raw, list):
            errors.append(FieldError(where, raw, "a list of overrides"))
        else:
            overrides = [
                _override_from_data(item, errors, f"{where}[{index}]")
                for index, item in enumerate(raw)
            ]
            kwargs["overrides"] = None if None in overrides else tuple(overrides)
    return build(Policy, kwargs, errors, path, start)  # type: ignore[no-any-return]
