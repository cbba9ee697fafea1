"""Reading a lifecycle from plain data: the boundary where strings become states and guards."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from servicedelivery.errors import MISSING, DefinitionError, FieldError, ValidationError
from servicedelivery.lifecycle._definition import LifecycleState, TransitionRule
from servicedelivery.lifecycle._lifecycle import Lifecycle
from servicedelivery.model import MilestoneState, structure

__all__ = ["lifecycle_from_data"]

T = TypeVar("T")

_FULL_KEYS = ("name", "initial", "states", "transitions")
_EXTENDING_KEYS = ("extends", "name", "initial", "states", "transitions", "remove")
_CANONICAL = frozenset(state.value for state in MilestoneState)


def lifecycle_from_data(data: object) -> Lifecycle:
    """Build a lifecycle from plain data, reporting every problem with its path.

    Raises:
        DefinitionError: The data is malformed or the definition contradicts itself.
    """
    if not isinstance(data, Mapping):
        raise DefinitionError.single(
            "", data, "a mapping with name, initial, states and transitions"
        )
    extends = data.get("extends")
    allowed = _EXTENDING_KEYS if "extends" in data else _FULL_KEYS
    errors = [
        FieldError(str(key), data[key], f"no such key; expected {', '.join(allowed)}")
        for key in data
        if key not in allowed
    ]
    if "extends" in data and extends != "default":
        errors.append(FieldError("extends", extends, "'default' or no 'extends'"))
    extending = extends == "default"
    name = data.get("name", MISSING)
    if not isinstance(name, str):
        errors.append(FieldError("name", name, "a lifecycle name such as 'default'"))
    initial = data.get("initial", None if extending else MISSING)
    if initial is not None and not isinstance(initial, str):
        errors.append(FieldError("initial", initial, "the name of a declared state"))
    states = _items(data, "states", _state, errors, required=not extending)
    rules = _items(data, "transitions", _rule, errors, required=not extending)
    remove = data.get("remove", [])
    if not (isinstance(remove, list) and all(isinstance(item, str) for item in remove)):
        errors.append(FieldError("remove", remove, "a list of trigger names"))
        remove = []
    if errors:
        raise DefinitionError(errors, title=f"invalid lifecycle {name!r}")
    if extending:
        from servicedelivery.lifecycle._default import DEFAULT_LIFECYCLE  # noqa: PLC0415

        return DEFAULT_LIFECYCLE.extended(
            name=name, states=states, transitions=rules, remove=remove, initial=initial
        )
    return Lifecycle(name=name, states=states, transitions=rules, initial=initial)


def _items(
    data: Mapping[str, Any],
    key: str,
    build: Callable[[object], T],
    errors: list[FieldError],
    *,
    required: bool,
) -> list[T]:
    """Build each item of the list under ``key``, collecting every error with its path."""
    raw = data.get(key, MISSING if required else [])
    if not isinstance(raw, list):
        errors.append(FieldError(key, raw, f"a list of {key}"))
        return []
    built: list[T] = []
    for index, item in enumerate(raw):
        try:
            built.append(build(item))
        except ValidationError as error:
            errors.extend(error.with_prefix(f"{key}[{index}]").errors)
    return built


def _state(item: object) -> LifecycleState:
    # A state named like a canonical state belongs to it; others must say where they belong.
    if isinstance(item, Mapping) and "category" not in item and item.get("name") in _CANONICAL:
        item = {**item, "category": item["name"]}
    return structure(item, LifecycleState)


def _rule(item: object) -> TransitionRule:
    # One source may be written as a plain name.
    if isinstance(item, Mapping) and isinstance(item.get("sources"), str):
        item = {**item, "sources": [item["sources"]]}
    return structure(item, TransitionRule)
