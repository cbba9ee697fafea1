"""Who a policy sends work to, the levels it escalates through, and which items it covers.

A :class:`Target` is an owner (``{"owner": "provider"}``) or a queue (``{"queue": "noc_leads"}``).
A queue's name may hold placeholders for the item's fields, such as
``{"queue": "account_manager_{provider}"}``: each item goes to its provider's own queue. A
:class:`Scope` selects items by their attributes (``{"region": ["emea", "apac"]}``).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from enum import StrEnum, unique
from types import MappingProxyType
from typing import Any

import attrs

from servicedelivery.errors import MISSING, DefinitionError, FieldError, ValidationError, join_path
from servicedelivery.model import OWNERS
from servicedelivery.model._definitions import unknown_keys
from servicedelivery.model._validation import Validated, checked, instance_of, optional
from servicedelivery.policy._conditions import _CONDITION_TYPES, Condition, condition_from_data
from servicedelivery.policy._durations import Duration

__all__ = [
    "NOT_ATTRIBUTES",
    "Definition",
    "Level",
    "Scope",
    "Target",
    "TargetKind",
    "read_duration",
]

_OWNER_NAMES = tuple(owner.value for owner in OWNERS)
NOT_ATTRIBUTES = frozenset({"item", "time", "state", "owner", "reason", "event_id", "position"})
"""Names that are not attributes: the frame's own columns."""


class Definition(Validated):
    """A part of a policy definition: bad fields raise :class:`DefinitionError`, all at once."""

    __slots__ = ()

    def __attrs_post_init__(self) -> None:
        try:
            super().__attrs_post_init__()
        except ValidationError as error:
            raise DefinitionError(error.errors, title=error.title) from None


@unique
class TargetKind(StrEnum):
    """Where a finding goes."""

    OWNER = "owner"
    """One of the four owners: provider, customer, NOC, service desk."""
    QUEUE = "queue"
    """A named queue or role of the host's own, such as ``sla_at_risk`` or ``noc_leads``."""


def placeholders(text: str) -> tuple[str, ...] | None:
    """The ``{field}`` placeholders of a name, in order; ``None`` if the braces are malformed."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return None
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not name or spec or conversion or not name.isidentifier():
            return None
        names.append(name)
    return tuple(dict.fromkeys(names))


def _target_name(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        return "a non-empty name without surrounding whitespace"
    if placeholders(value) is None:
        return "a name whose placeholders are {field} (letters, digits, underscores)"
    return None


@attrs.frozen
class Target(Definition):
    """Who a finding goes to: an owner, or a queue (whose name may hold ``{field}`` placeholders).

    Attributes:
        kind: Owner or queue.
        name: An owner's value (``"provider"``) or ``"{owner}"`` for the item's current owner;
            or a queue's name, such as ``"account_manager_{provider}"``.
    """

    kind: TargetKind = checked(instance_of(TargetKind))
    name: str = checked(_target_name)

    def _check_together(self) -> Iterable[FieldError]:
        if self.kind is TargetKind.OWNER and self.name not in (*_OWNER_NAMES, "{owner}"):
            yield FieldError(
                "owner", self.name, f"an owner ({', '.join(_OWNER_NAMES)}) or '{{owner}}'"
            )

    @classmethod
    def owner(cls, name: str) -> Target:
        """An owner: ``Target.owner("provider")``, or ``Target.owner("{owner}")``."""
        return cls(TargetKind.OWNER, name)

    @classmethod
    def queue(cls, name: str) -> Target:
        """A queue: ``Target.queue("sla_at_risk")``, ``Target.queue("am_{provider}")``."""
        return cls(TargetKind.QUEUE, name)

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields its name refers to."""
        return placeholders(self.name) or ()

    def render(self, values: Mapping[str, str]) -> str:
        """The target of one item, as recorded: ``"owner:provider"``, ``"queue:am_acme"``."""
        return f"{self.kind.value}:{self.name.format_map(values)}"

    def to_data(self) -> dict[str, str]:
        """``{"owner": name}`` or ``{"queue": name}``."""
        return {self.kind.value: self.name}

    @classmethod
    def from_data(cls, data: object) -> Target:
        """Read ``{"owner": ...}`` or ``{"queue": ...}``.

        Raises:
            DefinitionError: Anything else.
        """
        if isinstance(data, Mapping) and len(data) == 1:
            ((key, value),) = data.items()
            if key in ("owner", "queue"):
                try:
                    return cls(TargetKind(key), value)
                except ValidationError as error:
                    raise DefinitionError(
                        [FieldError(key, e.value, e.expected) for e in error.errors]
                    ) from None
        raise DefinitionError.single("", data, "a target: {'owner': name} or {'queue': name}")


def _optional_condition(value: object) -> str | None:
    if value is None or isinstance(value, _CONDITION_TYPES):
        return None
    return "None or a condition"


@attrs.frozen
class Level(Definition):
    """One escalation level: who it goes to, and when it is reached.

    A level is reached when the policy's condition (and the level's own ``when``, if any) has held
    for at least the policy's hold time and the level's ``after``.

    Attributes:
        to: Who the level escalates to.
        after: How long the condition must have held; ``None`` for no wait beyond the hold.
        when: An extra condition for this level, such as a higher threshold.
    """

    to: Target = checked(instance_of(Target))
    after: Duration | None = checked(optional(instance_of(Duration)), default=None)
    when: Condition | None = checked(_optional_condition, default=None)

    def _check_together(self) -> Iterable[FieldError]:
        if self.after is not None and self.after.negative:
            yield FieldError("after", self.after.to_data(), "a duration >= 0")

    def to_data(self) -> dict[str, Any]:
        """The level as data; absent parts are left out."""
        data: dict[str, Any] = {"to": self.to.to_data()}
        if self.after is not None:
            data["after"] = self.after.to_data()
        if self.when is not None:
            data["when"] = self.when.to_data()
        return data

    @classmethod
    def from_data(cls, data: object, errors: list[FieldError], path: str) -> Level | None:
        """A level from data; problems go to ``errors`` under ``path``."""
        if not isinstance(data, Mapping):
            errors.append(FieldError(path, data, "a level: a mapping with 'to'"))
            return None
        start = len(errors)
        errors.extend(unknown(data, ("to", "after", "when"), path))
        kwargs: dict[str, Any] = {}
        if "to" not in data:
            errors.append(FieldError(join_path(path, "to"), MISSING, "a target"))
        else:
            kwargs["to"] = read_target(data["to"], errors, join_path(path, "to"))
        if "after" in data:
            kwargs["after"] = read_duration(data["after"], errors, join_path(path, "after"))
        if "when" in data:
            kwargs["when"] = condition_from_data(data["when"], errors, join_path(path, "when"))
        level: Level | None = build(cls, kwargs, errors, path, start)
        return level


def _scope_values(value: object) -> object:
    if isinstance(value, Mapping):
        return MappingProxyType(
            {key: tuple(v) if isinstance(v, list) else v for key, v in value.items()}
        )
    return value


def _scope_check(value: object) -> str | None:
    expected = "a non-empty mapping of attribute names to a value or a non-empty list of values"
    if not isinstance(value, Mapping) or not value:
        return expected
    for key, item in value.items():
        if not isinstance(key, str) or not key or key in NOT_ATTRIBUTES:
            return expected + f" (not {', '.join(sorted(NOT_ATTRIBUTES))})"
        values = item if isinstance(item, tuple) else (item,)
        if not values or not all(isinstance(v, str) and v for v in values):
            return expected
    return None


@attrs.frozen
class Scope(Definition):
    """Which items a policy or an override covers: every attribute named must match.

    Attributes:
        attributes: Each attribute's accepted value, or tuple of values.
    """

    attributes: Mapping[str, str | tuple[str, ...]] = checked(
        _scope_check, converter=_scope_values, hash=False
    )

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.attributes.items())))

    @property
    def specificity(self) -> int:
        """How many attributes it constrains: the more, the more specific."""
        return len(self.attributes)

    def values(self, name: str) -> tuple[str, ...]:
        """The values accepted for an attribute."""
        value = self.attributes[name]
        return value if isinstance(value, tuple) else (value,)

    def to_data(self) -> dict[str, Any]:
        """The scope as data, each value as written (one value, or a list)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in self.attributes.items()
        }


# --------------------------------------------------------------------------------- data helpers


def unknown(data: Mapping[Any, Any], known: tuple[str, ...], path: str) -> list[FieldError]:
    """An error for every key that is not one of ``known``, under ``path``."""
    return [error.with_prefix(path) if path else error for error in unknown_keys(data, known)]


def read_duration(value: object, errors: list[FieldError], path: str) -> Duration | None:
    """A duration from data; a problem goes to ``errors``."""
    try:
        return Duration.parse(value)
    except ValidationError as error:
        errors.extend(e.with_prefix(path) for e in error.errors)
        return None


def read_target(value: object, errors: list[FieldError], path: str) -> Target | None:
    """A target from data; a problem goes to ``errors``."""
    try:
        return Target.from_data(value)
    except ValidationError as error:
        errors.extend(e.with_prefix(path) for e in error.errors)
        return None


def read_scope(value: object, errors: list[FieldError], path: str) -> Scope | None:
    """A scope from data; a problem goes to ``errors``."""
    try:
        return Scope(value)  # type: ignore[arg-type]
    except ValidationError as error:
        errors.extend(FieldError(path, e.value, e.expected) for e in error.errors)
        return None


def build(
    cls: type[Any], kwargs: dict[str, Any], errors: list[FieldError], path: str, start: int
) -> Any:
    """Build ``cls`` from what was read, reporting every problem to ``errors`` under ``path``.

    Each field read is checked on its own, whatever else went wrong, so one pass reports them all;
    the checks across fields (the class's ``_check_together``) run once every field is sound.
    """
    read = {name: value for name, value in kwargs.items() if value is not None}
    for attribute in attrs.fields(cls):
        check = attribute.metadata.get("check")
        if check is None or attribute.name not in read:
            continue
        value = read[attribute.name]
        converted = attribute.converter(value) if callable(attribute.converter) else value
        if (expected := check(converted)) is not None:
            errors.append(FieldError(join_path(path, attribute.name), value, expected))
    if len(errors) > start or len(read) < len(kwargs):
        return None
    try:
        return cls(**read)
    except TypeError:  # a required field is missing: already reported by the reader
        return None
    except ValidationError as error:
        errors.extend(e.with_prefix(path) for e in error.errors)
        return None


def to_enum(enum: type[Any]) -> Any:
    """A converter from an enum's value to its member; anything else is left for the check."""
    values = {member.value: member for member in enum}

    def convert(value: object) -> object:
        if isinstance(value, str) and not isinstance(value, enum) and value in values:
            return values[value]
        return value

    return convert
