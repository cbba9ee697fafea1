"""The library's one cattrs converter: entities to JSON-compatible data and back.

Datetimes travel as ISO 8601 strings with their offset, dates as ISO dates, ``Decimal`` as a string
(never a float), enums as their values, tuples as lists. Structuring is strict: no silent coercion of
``5`` into ``"5"`` or of ``"abc"`` into ``("a", "b", "c")``, no naive datetimes, no unknown keys. A bad
payload raises one :class:`~servicedelivery.errors.ValidationError` that lists every failing field
with its path, whatever went wrong inside cattrs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum, IntEnum, StrEnum
from typing import Any, TypeVar, cast, get_args, get_origin

import attrs
import cattrs
import pendulum
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from servicedelivery.errors import MISSING, FieldError, ValidationError, join_path
from servicedelivery.model._validation import to_instant

__all__ = ["make_converter", "structure", "unstructure"]

T = TypeVar("T")


def make_converter() -> cattrs.Converter:
    """Build a new converter configured for the library's types.

    Hosts that need hooks of their own build their converter here and register them on it; the
    library never mutates a converter it did not build.
    """
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    # pendulum's classes subclass the stdlib's; register them before any class hook is generated
    # so that attrs classes pick these hooks up.
    for instant_type in (pendulum.DateTime, dt.datetime):
        converter.register_structure_hook(instant_type, _structure_instant)
        converter.register_unstructure_hook(instant_type, _unstructure_instant)
    for date_type in (pendulum.Date, dt.date):
        converter.register_structure_hook(date_type, _structure_date)
        converter.register_unstructure_hook(date_type, _unstructure_date)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(Decimal, str)
    # Registered by class (singledispatch), which cattrs consults before predicate hooks. The enum
    # bases are more specific than ``str`` and ``int`` in a StrEnum's or IntEnum's MRO, so enums get
    # the enum hook, and ``bool`` (an ``int``) gets its own.
    converter.register_structure_hook(str, _strict(str, "a string"))
    converter.register_structure_hook(bool, _strict(bool, "true or false"))
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    for base in (Enum, StrEnum, IntEnum):
        converter.register_structure_hook(base, _structure_enum)
        converter.register_unstructure_hook(base, _enum_value)
    converter.register_structure_hook_factory(
        _is_homogeneous_sequence, lambda kind: _sequence_hook(converter, kind)
    )
    converter.register_structure_hook_factory(
        _is_str_mapping, lambda kind: _mapping_hook(converter, kind)
    )
    converter.register_structure_hook_factory(attrs.has, lambda kind: _attrs_hook(converter, kind))
    converter.register_unstructure_hook_factory(
        _is_homogeneous_sequence, lambda kind: _unstructure_sequence(converter, kind)
    )
    return converter


def structure(data: object, cls: type[T], *, converter: cattrs.Converter | None = None) -> T:
    """Build a ``cls`` from plain data, checking everything.

    Args:
        data: Plain data, as parsed from JSON.
        cls: The class to build.
        converter: A converter from :func:`make_converter`; the library's own by default.

    Raises:
        ValidationError: Listing every bad field with its path.
    """
    try:
        return (converter or _DEFAULT).structure(data, cls)
    except Exception as error:
        errors = _flatten(error, "", data, cls)
        raise ValidationError(errors, title=f"invalid {_name(cls)} payload") from None


def unstructure(obj: object, *, converter: cattrs.Converter | None = None) -> Any:
    """Turn an entity (or any library value) into JSON-compatible plain data."""
    return (converter or _DEFAULT).unstructure(obj)


def _name(cls: object) -> str:
    return getattr(cls, "__name__", None) or str(cls)


def _unstructure_instant(value: dt.datetime) -> str:
    return value.isoformat()


def _structure_instant(value: object, _: object) -> pendulum.DateTime:
    expected = "an ISO 8601 datetime with a UTC offset, such as '2024-03-31T09:30:00+02:00'"
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError.single("", value, expected) from None
    else:
        raise ValidationError.single("", value, expected)
    if parsed.utcoffset() is None:
        raise ValidationError.single("", value, expected + " (naive datetimes are rejected)")
    return cast(pendulum.DateTime, to_instant(parsed))


def _unstructure_date(value: dt.date) -> str:
    return value.isoformat()


def _structure_date(value: object, _: object) -> pendulum.Date:
    expected = "an ISO 8601 date such as '2024-03-31'"
    if isinstance(value, str):
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError.single("", value, expected) from None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        parsed = value
    else:
        raise ValidationError.single("", value, expected)
    return pendulum.Date(parsed.year, parsed.month, parsed.day)


def _structure_decimal(value: object, _: object) -> Decimal:
    expected = "a decimal number as a string, such as '1250.00'"
    # Floats are refused: 0.1 has no exact binary form, and money must not drift.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValidationError.single("", value, expected)
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValidationError.single("", value, expected) from None
    if not result.is_finite():
        raise ValidationError.single("", value, "a finite " + expected[2:])
    return result


def _strict(kind: type[T], expected: str) -> Callable[[object, object], T]:
    def hook(value: object, _: object) -> T:
        if isinstance(value, kind):
            return value
        raise ValidationError.single("", value, expected)

    return hook


def _structure_int(value: object, _: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValidationError.single("", value, "an integer")


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValidationError.single("", value, "a number")


def _enum_value(member: Enum) -> Any:
    return member.value


def _is_enum(kind: object) -> bool:
    return isinstance(kind, type) and issubclass(kind, Enum)


def _structure_enum(value: object, kind: type[Enum]) -> Enum:
    if isinstance(value, kind):
        return value
    values = [member.value for member in kind]
    if isinstance(value, bool) or value not in values:
        raise ValidationError.single("", value, "one of " + ", ".join(repr(v) for v in values))
    return kind(value)


def _is_homogeneous_sequence(kind: object) -> bool:
    origin = get_origin(kind)
    if origin is tuple:
        args = get_args(kind)
        return len(args) == 2 and args[1] is Ellipsis
    return origin in (list, frozenset)


def _sequence_hook(converter: cattrs.Converter, kind: Any) -> Callable[[object, object], Any]:
    origin = get_origin(kind)
    item_type = get_args(kind)[0]
    item_hook = converter.get_structure_hook(item_type)
    build: Callable[[list[Any]], Any] = {tuple: tuple, list: list, frozenset: frozenset}[origin]

    def hook(value: object, _: object) -> Any:
        if not isinstance(value, (list, tuple)):
            raise ValidationError.single("", value, "a list")
        items: list[Any] = []
        errors: list[FieldError] = []
        for index, item in enumerate(value):
            try:
                items.append(item_hook(item, item_type))
            except Exception as error:  # every failure becomes a FieldError
                errors.extend(_flatten(error, f"[{index}]", item, item_type))
        if errors:
            raise ValidationError(errors)
        return build(items)

    return hook


def _unstructure_sequence(converter: cattrs.Converter, kind: Any) -> Callable[[Any], list[Any]]:
    item_type = get_args(kind)[0]
    item_hook = converter.get_unstructure_hook(item_type)
    return lambda value: [item_hook(item) for item in value]


def _is_str_mapping(kind: object) -> bool:
    origin = get_origin(kind)
    return origin in (dict, Mapping) and get_args(kind)[:1] == (str,)


def _mapping_hook(converter: cattrs.Converter, kind: Any) -> Callable[[object, object], Any]:
    value_type = get_args(kind)[1]
    value_hook = converter.get_structure_hook(value_type)

    def hook(value: object, _: object) -> Any:
        if not isinstance(value, Mapping):
            raise ValidationError.single("", value, "a mapping")
        result: dict[str, Any] = {}
        errors: list[FieldError] = []
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(FieldError(f"[{key!r}]", key, "a string key"))
                continue
            try:
                result[key] = value_hook(item, value_type)
            except Exception as error:  # every failure becomes a FieldError
                errors.extend(_flatten(error, f"[{key!r}]", item, value_type))
        if errors:
            raise ValidationError(errors)
        return result

    return hook


def _attrs_hook(converter: cattrs.Converter, kind: type[Any]) -> Callable[[object, object], Any]:
    """Structure an attrs class field by field, reporting every problem in one pass.

    Each field is structured by its type's hook and, when it carries a check (see
    ``_validation.checked``), checked right away, so that a bad value in one field never hides a bad
    value in another. Checks across fields run in the constructor, once every field is sound.
    """
    attrs.resolve_types(kind)
    fields = [field for field in attrs.fields(kind) if field.init]
    hooks = {field.name: converter.get_structure_hook(field.type) for field in fields}
    known = {field.name for field in fields}
    known_text = ", ".join(field.name for field in fields)
    expected = f"a mapping of {kind.__name__} fields"

    def hook(value: object, _: object) -> Any:
        # cattrs would index into a string or a list and fail obscurely; say what was expected.
        if not isinstance(value, Mapping):
            raise ValidationError.single("", value, expected)
        errors: list[FieldError] = []
        kwargs: dict[str, Any] = {}
        for field in fields:
            if field.name not in value:
                if field.default is attrs.NOTHING:
                    errors.append(FieldError(field.name, MISSING, _describe(field.type)))
                continue
            raw = value[field.name]
            try:
                built = hooks[field.name](raw, field.type)
            except Exception as error:  # every failure becomes a FieldError
                errors.extend(_flatten(error, field.name, raw, field.type))
                continue
            check = field.metadata.get("check")
            if check is not None:
                converted = field.converter(built) if callable(field.converter) else built
                if (wanted := check(converted)) is not None:
                    errors.append(FieldError(field.name, raw, wanted))
                    continue
            kwargs[field.alias] = built
        errors.extend(
            FieldError(str(key), key, f"a field of {kind.__name__} ({known_text})")
            for key in value
            if key not in known
        )
        if errors:
            raise ValidationError(errors)
        return kind(**kwargs)

    return hook


def _at(data: object, key: object) -> object:
    if isinstance(data, Mapping):
        return data.get(key, MISSING)
    if isinstance(data, (list, tuple)) and isinstance(key, int) and 0 <= key < len(data):
        return data[key]
    return MISSING


def _flatten(error: BaseException, path: str, data: object, kind: object) -> list[FieldError]:
    """Every bad field inside ``error``, located under ``path``; ``data`` is the value found there."""
    if isinstance(error, ValidationError):
        return list(error.with_prefix(path).errors)
    if isinstance(error, ClassValidationError):
        with_notes, without_notes = error.group_exceptions()
        errors = []
        for sub, note in with_notes:
            name = getattr(note, "name", "")
            errors.extend(
                _flatten(sub, join_path(path, name), _at(data, name), getattr(note, "type", None))
            )
        for sub in without_notes:
            errors.extend(_flatten(sub, path, data, error.cl))
        return errors
    if isinstance(error, IterableValidationError):
        items, rest = error.group_exceptions()
        errors = []
        for item_error, item_note in items:
            index = getattr(item_note, "index", "?")
            errors.extend(
                _flatten(
                    item_error,
                    f"{path}[{index!r}]" if isinstance(index, str) else f"{path}[{index}]",
                    _at(data, index),
                    getattr(item_note, "type", None),
                )
            )
        for sub in rest:
            errors.extend(_flatten(sub, path, data, kind))
        return errors
    if isinstance(error, ForbiddenExtraKeysError):
        known = ", ".join(field.name for field in attrs.fields(error.cl))
        return [
            FieldError(join_path(path, key), key, f"a field of {error.cl.__name__} ({known})")
            for key in sorted(error.extra_fields)
        ]
    if isinstance(error, KeyError) and data is MISSING:
        return [FieldError(path, MISSING, _describe(kind))]
    return [FieldError(path, data, _describe(kind))]


_DESCRIPTIONS: dict[object, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    Decimal: "a decimal number as a string",
    pendulum.DateTime: "an ISO 8601 datetime with a UTC offset",
    pendulum.Date: "an ISO 8601 date",
}


def _describe(kind: object) -> str:
    if kind in _DESCRIPTIONS:
        return _DESCRIPTIONS[kind]
    if get_origin(kind) in (tuple, list, frozenset):
        return "a list"
    if get_origin(kind) in (dict, Mapping):
        return "a mapping"
    if isinstance(kind, type) and attrs.has(kind):
        return f"a mapping of {kind.__name__} fields"
    if _is_enum(kind):
        return "one of " + ", ".join(repr(m.value) for m in kind)  # type: ignore[attr-defined]
    if kind is not None and type(None) in get_args(kind):
        inner = [arg for arg in get_args(kind) if arg is not type(None)]
        return "null or " + " or ".join(_describe(arg) for arg in inner)
    return f"a value of type {_name(kind)}"


# Built once the hooks above exist; never handed out, so nobody can register hooks on it.
_DEFAULT = make_converter()
