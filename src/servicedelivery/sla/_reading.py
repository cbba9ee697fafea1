"""Reading an SLA from plain data: the boundary where strings become states, owners and durations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import MISSING, DefinitionError, FieldError, ValidationError
from servicedelivery.lifecycle import Lifecycle
from servicedelivery.model import MilestoneState, Owner, Taxonomy, structure
from servicedelivery.model._definitions import unknown_keys
from servicedelivery.model._validation import identifier
from servicedelivery.sla._conditions import Condition
from servicedelivery.sla._definition import (
    DEFAULT_STAGES,
    ROLES,
    SLA,
    Reopening,
    Stage,
    context_problems,
    definition_problems,
    positive_duration,
)
from servicedelivery.sla._durations import DURATION_TEXT, parse_duration

__all__ = ["sla_from_data"]

_KEYS = (
    "name",
    "description",
    "target",
    "calendar",
    "start",
    "pause",
    "stop",
    "cancel",
    "reopened",
    "stages",
)
_CONDITION_KEYS = ("state", "owner", "reason", "attributes")
_CANONICAL = {state.value: state for state in MilestoneState}
_OWNERS = {owner.value: owner for owner in Owner}

Resolve = Callable[[object], tuple[Any, str | None]]
"""Read one value: (what it means, None), or (None, what was expected)."""


def sla_from_data(
    data: object,
    *,
    lifecycle: Lifecycle,
    taxonomy: Taxonomy,
    calendars: CalendarSet | BusinessCalendar | None,
) -> SLA:
    """Build an SLA from plain data and check it, reporting every problem with its path at once.

    The parts that read well are checked together even when others do not, so that a stage out
    of order is reported along with a misspelt owner.

    Args:
        data: The SLA as plain data.
        lifecycle: Whose state names the conditions may use, and whose terminal states every
            clock must stop in.
        taxonomy: The reasons the conditions may name.
        calendars: The calendars the SLA's ``calendar`` must name one of, if given.

    Raises:
        DefinitionError: The data is malformed or the definition contradicts itself.
    """
    if not isinstance(data, Mapping):
        raise DefinitionError.single("", data, "a mapping with name, target, start and stop")
    errors = unknown_keys(data, _KEYS)
    fields: dict[str, Any] = {}
    name = data.get("name", MISSING)
    if (expected := identifier(name)) is not None:
        errors.append(FieldError("name", name, expected))
    fields["name"] = name
    description = data.get("description", "")
    if not isinstance(description, str):
        errors.append(FieldError("description", description, "a string"))
    fields["description"] = description
    target = data.get("target", MISSING)
    fields["target_ns"] = parse_duration(target)
    if fields["target_ns"] is None:
        errors.append(FieldError("target", target, DURATION_TEXT))
    calendar = data.get("calendar")
    if calendar is not None and (expected := identifier(calendar)) is not None:
        errors.append(FieldError("calendar", calendar, f"null (elapsed time) or {expected}"))
    fields["calendar"] = calendar
    states = _state_reader(lifecycle)
    reasons = _reason_reader(taxonomy)
    for role in ROLES:
        required = role in ("start", "stop")
        raw = data.get(role, MISSING if required else None)
        if raw is None and not required:
            fields[role] = None
            continue
        fields[role] = _condition(raw, role, states, reasons, errors)
    reopened = data.get("reopened", Reopening.CONTINUE.value)
    if reopened not in {mode.value for mode in Reopening}:
        errors.append(
            FieldError(
                "reopened", reopened, "one of " + ", ".join(repr(m.value) for m in Reopening)
            )
        )
    else:
        fields["reopened"] = Reopening(reopened)
    stages = (
        _stages(data["stages"], errors) if "stages" in data else dict(enumerate(DEFAULT_STAGES))
    )
    fields["stages"] = tuple(stages.values())
    if fields["target_ns"] is not None and (expected := positive_duration(fields["target_ns"])):
        errors.append(FieldError("target", target, expected))
    conditions = {role: fields[role] for role in ROLES if fields.get(role) is not None}
    errors.extend(definition_problems(conditions, stages))
    errors.extend(
        context_problems(
            conditions,
            calendar if isinstance(calendar, str) else None,
            lifecycle=lifecycle,
            taxonomy=taxonomy,
            calendars=calendars,
        )
    )
    if errors:
        raise DefinitionError(errors, title=f"invalid SLA {name!r}")
    return SLA(**fields)


def _stages(raw: object, errors: list[FieldError]) -> dict[int, Stage]:
    """The stages that read well, by their index in the data."""
    if not isinstance(raw, list):
        errors.append(FieldError("stages", raw, "a list of stages ({'name': ..., 'at': ...})"))
        return {}
    stages = {}
    for index, item in enumerate(raw):
        try:
            stages[index] = structure(item, Stage)
        except ValidationError as error:
            errors.extend(error.with_prefix(f"stages[{index}]").errors)
    return stages


def _condition(
    raw: object, role: str, states: Resolve, reasons: Resolve, errors: list[FieldError]
) -> Condition | None:
    if not isinstance(raw, Mapping):
        errors.append(
            FieldError(role, raw, "a condition: a mapping of state, owner, reason, attributes")
        )
        return None
    found = len(errors)
    errors.extend(FieldError(f"{role}.{e.path}", e.value, e.expected) for e in unknown_keys(
        raw, _CONDITION_KEYS
    ))  # fmt: skip
    facets = {
        "states": _values(raw.get("state", []), f"{role}.state", states, errors),
        "owners": _values(raw.get("owner", []), f"{role}.owner", _owner, errors),
        "reasons": _values(raw.get("reason", []), f"{role}.reason", reasons, errors),
    }
    attributes: dict[str, tuple[str, ...]] = {}
    given = raw.get("attributes", {})
    if not isinstance(given, Mapping):
        errors.append(
            FieldError(f"{role}.attributes", given, "a mapping of attribute names to values")
        )
        given = {}
    for name, values in given.items():
        path = f"{role}.attributes[{name!r}]"
        if (expected := identifier(name)) is not None:
            errors.append(FieldError(path, name, f"an attribute name: {expected}"))
            continue
        attributes[name] = _values(values, path, _attribute_value, errors, at_least_one=True)
    if len(errors) > found:
        return None
    try:
        return Condition(**facets, attributes=attributes)
    except ValidationError as error:
        errors.extend(error.with_prefix(role).errors)
        return None


def _values(
    raw: object,
    path: str,
    resolve: Resolve,
    errors: list[FieldError],
    *,
    at_least_one: bool = False,
) -> tuple[Any, ...]:
    """A facet's values: one value or a list of them, each read with ``resolve``, none repeated."""
    items = raw if isinstance(raw, list) else [raw]
    if at_least_one and not items:
        errors.append(FieldError(path, raw, "at least one value"))
    read: list[Any] = []
    for index, item in enumerate(items):
        where = f"{path}[{index}]" if isinstance(raw, list) else path
        value, expected = resolve(item)
        if expected is not None:
            errors.append(FieldError(where, item, expected))
        elif value in read:
            errors.append(FieldError(where, item, "a value not already listed"))
        else:
            read.append(value)
    return tuple(read)


def _state_reader(lifecycle: Lifecycle) -> Resolve:
    """Read a state: a canonical state, or a state of the lifecycle alone in its canonical state."""
    alone: dict[str, MilestoneState] = {}
    shared: dict[str, tuple[str, ...]] = {}
    for state in lifecycle.states:
        siblings = tuple(s.name for s in lifecycle.states if s.category is state.category)
        if len(siblings) == 1:
            alone[state.name] = state.category
        else:
            shared[state.name] = siblings
    known = ", ".join(
        [*_CANONICAL, *(name for name in lifecycle.state_names if name not in _CANONICAL)]
    )

    def resolve(value: object) -> tuple[Any, str | None]:
        if isinstance(value, str) and value in _CANONICAL:
            return _CANONICAL[value], None
        if isinstance(value, str) and value in alone:
            return alone[value], None
        if isinstance(value, str) and value in shared:
            category = lifecycle.category(value)
            return None, (
                f"a state a clock can tell apart: lifecycle {lifecycle.name!r} puts "
                f"{', '.join(map(repr, shared[value]))} in the canonical state "
                f"{category.value!r}, and frames record canonical states; name {category.value!r}"
            )
        return None, f"a state ({known})"

    return resolve


def _owner(value: object) -> tuple[Any, str | None]:
    if isinstance(value, str) and value in _OWNERS:
        return _OWNERS[value], None
    return None, "an owner (" + ", ".join(_OWNERS) + ")"


def _reason_reader(taxonomy: Taxonomy) -> Resolve:
    expected = f"a reason code of the taxonomy ({', '.join(taxonomy.codes)})"

    def resolve(value: object) -> tuple[Any, str | None]:
        return (value, None) if isinstance(value, str) and value in taxonomy else (None, expected)

    return resolve


def _attribute_value(value: object) -> tuple[Any, str | None]:
    if (expected := identifier(value)) is None:
        return value, None
    return None, f"an attribute value: {expected}"
