"""Conditions: comparisons on fields and measures, combined with all_of, any_of and not_.

A condition is a small tree of frozen values. Leaves compare a *field* of an item (its state, owner,
reason or any attribute such as provider, region or step) with values, or a *measure* (its age, the
time it has been blocked, the fraction of an SLA used, ...) with a threshold. In data::

    {"field": "owner", "eq": "provider"}
    {"field": "region", "in": ["emea", "apac"]}
    {"measure": "blocked_for", "gt": "5 business days"}
    {"measure": "sla_fraction_used", "sla": "install", "ge": 0.75}
    {"all_of": [...]}, {"any_of": [...]}, {"not": {...}}

In Python, ``field("owner").eq("provider")``, ``measure("blocked_for").gt("5 business days")``,
``all_of(a, b)``, ``any_of(a, b)``, ``not_(a)``, or ``a & b``, ``a | b``, ``~a``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum, unique
from typing import Any, ClassVar, TypeAlias

import attrs

from servicedelivery.errors import MISSING, DefinitionError, FieldError, ValidationError, join_path
from servicedelivery.model import OWNERS, STATES
from servicedelivery.policy._durations import Duration

__all__ = [
    "FIELD_OPS",
    "ORDER_OPS",
    "AllOf",
    "AnyOf",
    "Condition",
    "FieldTest",
    "Measure",
    "MeasureKind",
    "MeasureTest",
    "Not",
    "Op",
    "all_of",
    "any_of",
    "condition_from_data",
    "field",
    "leaves",
    "measure",
    "not_",
]

_STATE_NAMES = tuple(state.value for state in STATES)
_OWNER_NAMES = tuple(owner.value for owner in OWNERS)
_NOT_FIELDS = frozenset({"item", "time", "event_id", "position"})


@unique
class Op(StrEnum):
    """How a leaf compares: equality and membership for fields, order for measures."""

    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"


FIELD_OPS: tuple[Op, ...] = (Op.EQ, Op.NE, Op.IN, Op.NOT_IN)
"""The comparisons a field leaf may use."""
ORDER_OPS: tuple[Op, ...] = (Op.LT, Op.LE, Op.GT, Op.GE)
"""The comparisons a measure leaf may use."""
_OP_NAMES = tuple(op.value for op in Op)


@unique
class MeasureKind(StrEnum):
    """What a measure's values are, and so what its threshold must be."""

    DURATION = "duration"
    """Nanoseconds; the threshold is a duration, whose clock says how the measure counts."""
    FRACTION = "fraction"
    """A number >= 0, such as the fraction of an SLA target used."""
    PROBABILITY = "probability"
    """A number from 0 to 1."""


@unique
class Measure(StrEnum):
    """The measures a condition can compare; each is defined to the instant in the docs."""

    AGE = "age"
    """Work item age: from commitment (first in progress or blocked) to now."""
    TIME_IN_STATE = "time_in_state"
    """Time in the current episode (the last change of state, owner or reason) until now."""
    BLOCKED_FOR = "blocked_for"
    """Time in the current blocked episode; none when the item is not blocked."""
    BLOCKED_TOTAL = "blocked_total"
    """Total time the item has been blocked, every blocked episode, up to now."""
    TIME_TO_TARGET = "time_to_target"
    """Time left until the item's target date (negative once it has passed)."""
    SLA_FRACTION_USED = "sla_fraction_used"
    """The fraction of an SLA's target used by its clock."""
    SLA_REMAINING = "sla_remaining"
    """An SLA's target minus the time its clock has counted (negative once breached)."""
    TARGET_MISS_PROBABILITY = "target_miss_probability"
    """The forecast probability that the item completes after its target date."""

    @property
    def kind(self) -> MeasureKind:
        """What the measure's values are."""
        return _KINDS.get(self, MeasureKind.DURATION)

    @property
    def needs_sla(self) -> bool:
        """Whether a leaf on this measure must name an SLA."""
        return self in (Measure.SLA_FRACTION_USED, Measure.SLA_REMAINING)


_KINDS = {
    Measure.SLA_FRACTION_USED: MeasureKind.FRACTION,
    Measure.TARGET_MISS_PROBABILITY: MeasureKind.PROBABILITY,
}


class _Combinable:
    """``a & b``, ``a | b`` and ``~a`` build ``all_of``, ``any_of`` and ``not_``."""

    __slots__ = ()

    def __and__(self, other: Condition) -> AllOf:
        return all_of(self, other)  # type: ignore[arg-type]

    def __or__(self, other: Condition) -> AnyOf:
        return any_of(self, other)  # type: ignore[arg-type]

    def __invert__(self) -> Not:
        return not_(self)  # type: ignore[arg-type]


def _field_value(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen
class FieldTest(_Combinable):
    """A comparison of one of the item's fields with values.

    Attributes:
        field: ``"state"``, ``"owner"``, ``"reason"``, or the name of an attribute of the frame
            (``"provider"``, ``"region"``, ``"step"``, ``"site"``, ...).
        op: ``eq``, ``ne``, ``in`` or ``not_in``.
        value: One value for ``eq`` / ``ne``; a tuple of values for ``in`` / ``not_in``.
    """

    field: str
    op: Op
    value: str | tuple[str, ...] = attrs.field(converter=_field_value)

    def __attrs_post_init__(self) -> None:
        errors = list(_field_problems(self.field, self.op, self.value))
        if errors:
            raise DefinitionError(errors, title="invalid field condition")

    def to_data(self) -> dict[str, Any]:
        """The leaf as data: ``{"field": ..., op: value}``."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"field": self.field, self.op.value: value}

    @property
    def values(self) -> tuple[str, ...]:
        """The values compared with, as a tuple."""
        return self.value if isinstance(self.value, tuple) else (self.value,)


def _threshold(value: object) -> object:
    if isinstance(value, (str, Mapping)):
        try:
            return Duration.parse(value)
        except ValidationError:
            return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


@attrs.frozen
class MeasureTest(_Combinable):
    """A comparison of a measure of the item with a threshold.

    Attributes:
        measure: The measure.
        op: ``lt``, ``le``, ``gt`` or ``ge``.
        threshold: A :class:`Duration` for duration measures (its clock says whether the measure
            counts calendar or working time), a number for fractions and probabilities.
        sla: The name of the SLA, for SLA measures.
    """

    measure: Measure
    op: Op
    threshold: Duration | float = attrs.field(converter=_threshold)
    sla: str | None = None

    def __attrs_post_init__(self) -> None:
        errors = list(_measure_problems(self.measure, self.op, self.threshold, self.sla))
        if errors:
            raise DefinitionError(errors, title="invalid measure condition")

    def to_data(self) -> dict[str, Any]:
        """The leaf as data: ``{"measure": ..., ["sla": ...,] op: threshold}``."""
        data: dict[str, Any] = {"measure": self.measure.value}
        if self.sla is not None:
            data["sla"] = self.sla
        threshold = self.threshold
        data[self.op.value] = threshold.to_data() if isinstance(threshold, Duration) else threshold
        return data


def _conditions(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen
class _Combination(_Combinable):
    """Conditions combined: :class:`AllOf` and :class:`AnyOf` differ only in how they combine."""

    combinator: ClassVar[str]
    """The combination's key in data, and in the paths of its conditions."""
    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)

    def __attrs_post_init__(self) -> None:
        _check_children(self.combinator, self.conditions)

    def to_data(self) -> dict[str, Any]:
        """``{"all_of": [...]}`` or ``{"any_of": [...]}``."""
        return {self.combinator: [condition.to_data() for condition in self.conditions]}


@attrs.frozen
class AllOf(_Combination):
    """Holds when every one of its conditions holds."""

    combinator: ClassVar[str] = "all_of"


@attrs.frozen
class AnyOf(_Combination):
    """Holds when at least one of its conditions holds."""

    combinator: ClassVar[str] = "any_of"


@attrs.frozen
class Not(_Combinable):
    """Holds when its condition does not."""

    condition: Condition

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.condition, _CONDITION_TYPES):
            raise DefinitionError.single("not", self.condition, "a condition")

    def to_data(self) -> dict[str, Any]:
        """``{"not": {...}}``."""
        return {"not": self.condition.to_data()}


Condition: TypeAlias = FieldTest | MeasureTest | AllOf | AnyOf | Not
"""A condition: a leaf (field or measure test) or a combination of conditions."""
_CONDITION_TYPES = (FieldTest, MeasureTest, AllOf, AnyOf, Not)


def _check_children(name: str, conditions: object) -> None:
    if not isinstance(conditions, tuple) or not conditions:
        raise DefinitionError.single(name, conditions, "a non-empty list of conditions")
    bad = [
        FieldError(f"{name}[{index}]", condition, "a condition")
        for index, condition in enumerate(conditions)
        if not isinstance(condition, _CONDITION_TYPES)
    ]
    if bad:
        raise DefinitionError(bad)


# ---------------------------------------------------------------------------------------- builders


@attrs.frozen
class FieldRef:
    """A field to compare: ``field("owner").eq("provider")``."""

    name: str

    def eq(self, value: str) -> FieldTest:
        """Holds when the field equals ``value``."""
        return FieldTest(self.name, Op.EQ, str(value))

    def ne(self, value: str) -> FieldTest:
        """Holds when the field differs from ``value`` (a missing value differs from any)."""
        return FieldTest(self.name, Op.NE, str(value))

    def is_in(self, values: Sequence[str]) -> FieldTest:
        """Holds when the field is one of ``values``."""
        return FieldTest(self.name, Op.IN, tuple(str(value) for value in values))

    def not_in(self, values: Sequence[str]) -> FieldTest:
        """Holds when the field is none of ``values``."""
        return FieldTest(self.name, Op.NOT_IN, tuple(str(value) for value in values))


@attrs.frozen
class MeasureRef:
    """A measure to compare: ``measure("blocked_for").gt("5 business days")``."""

    measure: Measure
    sla: str | None = None

    def lt(self, threshold: object) -> MeasureTest:
        """Holds while the measure is below ``threshold``."""
        return MeasureTest(self.measure, Op.LT, threshold, self.sla)

    def le(self, threshold: object) -> MeasureTest:
        """Holds while the measure is at most ``threshold``."""
        return MeasureTest(self.measure, Op.LE, threshold, self.sla)

    def gt(self, threshold: object) -> MeasureTest:
        """Holds once the measure is above ``threshold``."""
        return MeasureTest(self.measure, Op.GT, threshold, self.sla)

    def ge(self, threshold: object) -> MeasureTest:
        """Holds once the measure is at least ``threshold``."""
        return MeasureTest(self.measure, Op.GE, threshold, self.sla)


def field(name: str) -> FieldRef:
    """A field of the item to compare: state, owner, reason or an attribute's name."""
    return FieldRef(name)


def measure(name: Measure | str, *, sla: str | None = None) -> MeasureRef:
    """A measure of the item to compare; SLA measures name their SLA.

    Raises:
        DefinitionError: An unknown measure.
    """
    if not isinstance(name, Measure):
        if name not in {m.value for m in Measure}:
            raise DefinitionError.single("measure", name, _one_of(Measure))
        name = Measure(name)
    return MeasureRef(name, sla)


def all_of(*conditions: Condition) -> AllOf:
    """Holds when every condition holds."""
    return AllOf(conditions)


def any_of(*conditions: Condition) -> AnyOf:
    """Holds when at least one condition holds."""
    return AnyOf(conditions)


def not_(condition: Condition) -> Not:
    """Holds when ``condition`` does not."""
    return Not(condition)


def leaves(condition: Condition, path: str = "") -> Iterator[tuple[str, FieldTest | MeasureTest]]:
    """Every leaf of a condition, depth first, with its path (``all_of[1]``, ``not``)."""
    if isinstance(condition, (FieldTest, MeasureTest)):
        yield path, condition
    elif isinstance(condition, Not):
        yield from leaves(condition.condition, join_path(path, "not"))
    else:
        for index, child in enumerate(condition.conditions):
            yield from leaves(child, join_path(path, f"{condition.combinator}[{index}]"))


# ----------------------------------------------------------------------------------------- checks


def _one_of(enum: Any) -> str:
    return "one of " + ", ".join(repr(member.value) for member in enum)


def _field_problems(name: object, op: object, value: object) -> Iterator[FieldError]:
    if not isinstance(name, str) or not name.strip() or name in _NOT_FIELDS:
        yield FieldError(
            "field",
            name,
            "'state', 'owner', 'reason' or the name of an attribute (not item, time, event_id, "
            "position)",
        )
        return
    if op not in FIELD_OPS:
        yield FieldError("field", op, "a field comparison: eq, ne, in or not_in")
        return
    path = str(op)
    allowed = {"state": _STATE_NAMES, "owner": _OWNER_NAMES}.get(name)
    if op in (Op.EQ, Op.NE):
        if not isinstance(value, str) or not value:
            yield FieldError(path, value, "a non-empty string")
            return
        values: tuple[object, ...] = (value,)
    else:
        if not isinstance(value, tuple) or not value:
            yield FieldError(path, value, "a non-empty list of strings")
            return
        values = value
    for index, item in enumerate(values):
        where = path if op in (Op.EQ, Op.NE) else f"{path}[{index}]"
        if not isinstance(item, str) or not item:
            yield FieldError(where, item, "a non-empty string")
        elif allowed is not None and item not in allowed:
            yield FieldError(where, item, f"a {name}: one of {', '.join(map(repr, allowed))}")


def _measure_problems(
    measure: object, op: object, threshold: object, sla: object
) -> Iterator[FieldError]:
    if not isinstance(measure, Measure):
        yield FieldError("measure", measure, _one_of(Measure))
        return
    if op not in ORDER_OPS:
        yield FieldError("measure", op, "a measure comparison: lt, le, gt or ge")
        return
    path = str(op)
    kind = measure.kind
    if kind is MeasureKind.DURATION:
        if not isinstance(threshold, Duration):
            yield FieldError(path, threshold, _DURATION_EXPECTED)
        elif threshold.negative and measure not in (Measure.TIME_TO_TARGET, Measure.SLA_REMAINING):
            yield FieldError(path, threshold.to_data(), f"a duration >= 0 ({measure} never is)")
    elif not isinstance(threshold, float) or math.isnan(threshold):
        yield FieldError(path, threshold, f"a number ({measure} is a {kind})")
    elif threshold < 0 or (kind is MeasureKind.PROBABILITY and threshold > 1):
        bounds = "from 0 to 1" if kind is MeasureKind.PROBABILITY else ">= 0"
        yield FieldError(path, threshold, f"a number {bounds}")
    if measure.needs_sla:
        if not isinstance(sla, str) or not sla.strip():
            yield FieldError("sla", MISSING if sla is None else sla, "the name of an SLA")
    elif sla is not None:
        yield FieldError("sla", sla, f"no sla ({measure} does not read an SLA)")


_DURATION_EXPECTED = "a duration such as '5d', 'PT36H', '5 business days' or {'working': '40h'}"


# ------------------------------------------------------------------------------------ from data


def condition_from_data(data: object, errors: list[FieldError], path: str) -> Condition | None:
    """A condition from data; problems go to ``errors`` with paths under ``path``.

    Returns ``None`` when the condition has problems (they are all in ``errors``).
    """
    if not isinstance(data, Mapping):
        errors.append(FieldError(path, data, "a condition: a mapping"))
        return None
    keys = set(data)
    for cls in (AllOf, AnyOf):
        combinator = cls.combinator
        if combinator in keys:
            extra = keys - {combinator}
            _unknown(data, extra, errors, path, f"nothing else beside {combinator!r}")
            children = data[combinator]
            where = join_path(path, combinator)
            if not isinstance(children, list) or not children:
                errors.append(FieldError(where, children, "a non-empty list of conditions"))
                return None
            built = [
                condition_from_data(child, errors, f"{where}[{index}]")
                for index, child in enumerate(children)
            ]
            if extra or any(child is None for child in built):
                return None
            return cls(tuple(built))
    if "not" in keys:
        extra = keys - {"not"}
        _unknown(data, extra, errors, path, "nothing else beside 'not'")
        inner = condition_from_data(data["not"], errors, join_path(path, "not"))
        return None if inner is None or extra else Not(inner)
    if "field" in keys:
        return _field_from_data(data, errors, path)
    if "measure" in keys:
        return _measure_from_data(data, errors, path)
    errors.append(
        FieldError(
            path,
            dict(data),
            "a condition: a mapping with 'all_of', 'any_of', 'not', 'field' or 'measure'",
        )
    )
    return None


def _unknown(
    data: Mapping[Any, Any], keys: set[Any], errors: list[FieldError], path: str, expected: str
) -> None:
    # A key as written, joined with a dot even where it looks like a subscript.
    errors.extend(
        FieldError(f"{path}.{key}" if path else str(key), data[key], expected)
        for key in sorted(keys)
    )


def _single_op(
    data: Mapping[Any, Any],
    allowed: tuple[Op, ...],
    other: tuple[str, ...],
    errors: list[FieldError],
    path: str,
) -> Op | None:
    ops = [key for key in data if key in _OP_NAMES]
    unknown = {key for key in data if key not in _OP_NAMES and key not in other}
    _unknown(data, unknown, errors, path, f"no such key; expected {', '.join(other)} and one of "
             f"{', '.join(op.value for op in allowed)}")  # fmt: skip
    if len(ops) != 1:
        errors.append(
            FieldError(
                path,
                dict(data),
                f"exactly one comparison ({', '.join(op.value for op in allowed)})",
            )
        )
        return None
    op = Op(ops[0])
    if op not in allowed:
        errors.append(
            FieldError(
                join_path(path, op.value),
                data[op.value],
                f"no {op.value!r} here; expected one of {', '.join(o.value for o in allowed)}",
            )
        )
        return None
    return None if unknown else op


def _field_from_data(
    data: Mapping[Any, Any], errors: list[FieldError], path: str
) -> FieldTest | None:
    op = _single_op(data, FIELD_OPS, ("field",), errors, path)
    name = data["field"]
    value = data.get(op.value) if op is not None else None
    if op in (Op.IN, Op.NOT_IN) and isinstance(value, list):
        value = tuple(value)
    problems = list(_field_problems(name, op if op is not None else Op.EQ, value))
    if op is None:
        problems = [p for p in problems if p.path == "field"]
    errors.extend(problem.with_prefix(path) for problem in problems)
    if op is None or problems:
        return None
    return FieldTest(name, op, value)


def _measure_from_data(
    data: Mapping[Any, Any], errors: list[FieldError], path: str
) -> MeasureTest | None:
    op = _single_op(data, ORDER_OPS, ("measure", "sla"), errors, path)
    raw = data["measure"]
    known = {m.value for m in Measure}
    if raw not in known:
        errors.append(FieldError(join_path(path, "measure"), raw, _one_of(Measure)))
        return None
    chosen = Measure(raw)
    sla = data.get("sla")
    if op is None:
        return None
    threshold: object = data[op.value]
    if chosen.kind is MeasureKind.DURATION:
        try:
            threshold = Duration.parse(threshold)
        except ValidationError as error:
            errors.extend(e.with_prefix(join_path(path, op.value)) for e in error.errors)
            return None
    elif isinstance(threshold, int) and not isinstance(threshold, bool):
        threshold = float(threshold)
    problems = list(_measure_problems(chosen, op, threshold, sla))
    errors.extend(problem.with_prefix(path) for problem in problems)
    if problems:
        return None
    return MeasureTest(chosen, op, threshold, sla)
