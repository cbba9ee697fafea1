"""Fast decoding of the payloads the log wrote itself, one precompiled builder per event class.

A payload the log reads back was checked in full when it was appended, and the hash chain covers
it, so ``verify`` finds any change made to it since. Reading therefore re-checks only its shape: it is
a JSON object whose keys are exactly the class's fields and whose values have the JSON type each
field stores (a string, an integer, a boolean, ``null`` where allowed, a known enum value, an instant
that parses, a mapping of strings). Those payloads are built field by field without running the
checks again. Anything else (a payload of another shape, an older schema version to upcast, a class
with fields of other types or its own post-init) goes through the fully checked path,
:meth:`EventRegistry.decode`, which reports every problem.
"""

from __future__ import annotations

import decimal
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pendulum

from servicedelivery.eventlog._events import to_frozen_mapping
from servicedelivery.eventlog._instants import parse_instant
from servicedelivery.model._validation import Validated, to_instant, to_tuple

__all__ = ["fast_builder", "parse_payload"]

Builder = Callable[[Any], Any]
"""Builds a value from its parsed data, or returns ``None`` when the data is not of the usual shape."""

_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_NOT_SHAPED: Any = object()  # a value of the wrong shape, told apart from a legitimate None


def parse_payload(text: str) -> Any:
    """The data of a payload text, as ``json.loads`` gives it (raises ``ValueError`` if not JSON).

    The C scanner is called directly: ``json.loads`` costs four times more on a small object.
    """
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)  # raises the usual JSONDecodeError
    if end != len(text):
        return json.loads(text)
    return value


def _member(cls: type[enum.Enum]) -> Callable[[Any], Any]:
    members = {member.value: member for member in cls if type(member.value) is str}

    def value(raw: Any) -> Any:
        return members.get(raw, _NOT_SHAPED) if type(raw) is str else _NOT_SHAPED

    return value


def _instant(raw: Any) -> Any:
    if type(raw) is not str:
        return _NOT_SHAPED
    try:
        instant = parse_instant(raw)
    except ValueError:
        return _NOT_SHAPED
    return instant


def _text_mapping(raw: Any) -> Any:
    if type(raw) is not dict or not all(type(item) is str for item in raw.values()):
        return _NOT_SHAPED
    return types.MappingProxyType(raw)


def _decimal(raw: Any) -> Any:
    if type(raw) is not str:
        return _NOT_SHAPED
    try:
        value = decimal.Decimal(raw)
    except decimal.InvalidOperation:
        return _NOT_SHAPED
    return value if value.is_finite() else _NOT_SHAPED


def _texts(raw: Any) -> Any:
    if type(raw) is not list or not all(type(item) is str for item in raw):
        return _NOT_SHAPED
    return tuple(raw)


def _optional(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def value(raw: Any) -> Any:
        return None if raw is None else inner(raw)

    return value


def _nested(build: Builder) -> Callable[[Any], Any]:
    def value(raw: Any) -> Any:
        built: object = build(raw)
        return _NOT_SHAPED if built is None else built

    return value


def _is_text_mapping(kind: object) -> bool:
    return typing.get_origin(kind) is Mapping and typing.get_args(kind) == (str, str)


def _is_texts(kind: object) -> bool:
    return typing.get_origin(kind) is tuple and typing.get_args(kind) == (str, ...)


def _optional_base(kind: object) -> object | None:
    """``T`` for ``T | None``, else ``None``."""
    if typing.get_origin(kind) in (types.UnionType, typing.Union):
        members: tuple[object, ...] = typing.get_args(kind)
        if len(members) == 2 and type(None) in members:
            return next(m for m in members if m is not type(None))
    return None


def _field_value(kind: object, checked: bool) -> type | Callable[[Any], Any] | None:  # noqa: PLR0911
    """How a field of this type is built from its JSON value, or ``None`` when not supported.

    A type: the JSON value is the field's value when it is exactly of that type. ``checked``: nested
    values are built with their checks (see ``fast_builder``).
    """
    if kind in (str, int, bool):
        return typing.cast(type, kind)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _member(kind)
    if kind is pendulum.DateTime:
        return _instant
    if kind is decimal.Decimal:  # written as its string, as the converter does
        return _decimal
    if _is_text_mapping(kind):
        return _text_mapping
    if _is_texts(kind):
        return _texts
    if isinstance(kind, type) and attrs.has(kind):
        build = fast_builder(kind, checked=checked)
        return None if build is None else _nested(build)
    base = _optional_base(kind)
    if base is not None:
        inner = _field_value(base, checked)
        if inner is None:
            return None
        if isinstance(inner, type):
            inner = _exactly(inner)
        return _optional(inner)
    return None


def _exactly(kind: type) -> Callable[[Any], Any]:
    def value(raw: Any) -> Any:
        return raw if type(raw) is kind else _NOT_SHAPED

    return value


def _converter_fits(field: attrs.Attribute[Any], kind: object) -> bool:
    """Whether the field's converter leaves the value built by ``_field_value`` as it is."""
    base = _optional_base(kind) or kind
    converter: object = field.converter
    if _is_text_mapping(base):  # the fast path builds the read-only view the converter makes
        return converter is to_frozen_mapping
    if _is_texts(base):  # the fast path builds the tuple the converter makes of a list
        return converter is to_tuple
    if base is pendulum.DateTime:  # parsed at its fixed offset, which the converter keeps
        return converter in (None, to_instant)
    return converter is None


_BUILDERS: dict[tuple[type, bool], Builder | None] = {}


def fast_builder(cls: type[Any], *, checked: bool = False) -> Builder | None:
    """The builder of ``cls``'s values from trusted payloads, or ``None`` if it has none.

    A class has one when its instances are made only of fields of the supported types, set by the
    attrs constructor (no ``__attrs_pre_init__``, no post-init besides the checks, no attrs
    validators), so that setting the fields directly gives exactly what the constructor gives a
    valid payload. The checks, within and across fields, ran when the event was appended.

    With ``checked``, the builder runs them again on every instance it builds, nested ones first, as
    the constructor does: it raises ``ValidationError`` where the fully checked path would refuse the
    data (with the same problems, though not in the same words), and otherwise gives what that path
    gives. ``verify`` uses it to check each payload in full without structuring it field by field.
    """
    key = (cls, checked)
    if key in _BUILDERS:
        return _BUILDERS[key]
    _BUILDERS[key] = None  # while it is made: a class that contains itself has no builder
    builder = _BUILDERS[key] = _make_builder(cls, checked)
    return builder


def _make_builder(cls: type[Any], checked: bool) -> Builder | None:
    if (
        not attrs.has(cls)
        or getattr(cls, "__attrs_post_init__", None) is not Validated.__attrs_post_init__
        or getattr(cls, "__attrs_pre_init__", None) is not None
        or any(field.validator is not None for field in attrs.fields(cls))
    ):
        return None
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # annotations that cannot be resolved: use the checked path
        return None
    plain: list[tuple[str, type]] = []
    built: list[tuple[str, Callable[[Any], Any]]] = []
    for field in attrs.fields(cls):
        kind = hints.get(field.name)
        value = _field_value(kind, checked)
        if value is None or not field.init or field.alias != field.name:
            return None
        if not _converter_fits(field, kind):
            return None
        if isinstance(value, type):
            plain.append((field.name, value))
        else:
            built.append((field.name, value))
    names = frozenset(name for name, _ in (*plain, *built))
    plain_fields, built_fields = tuple(plain), tuple(built)
    new = object.__new__
    put = object.__setattr__
    not_shaped = _NOT_SHAPED
    check = Validated.__attrs_post_init__ if checked else None

    def build(data: Any) -> Any:
        if type(data) is not dict or data.keys() != names:
            return None
        instance = new(cls)
        for name, kind in plain_fields:
            item = data[name]
            if type(item) is not kind:
                return None
            put(instance, name, item)
        for name, value in built_fields:
            item = value(data[name])
            if item is not_shaped:
                return None
            put(instance, name, item)
        if check is not None:
            check(instance)
        return instance

    return build
