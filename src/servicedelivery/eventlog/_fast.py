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

import collections
import decimal
import enum
import itertools
import json
import operator
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pendulum

from servicedelivery.eventlog._events import to_frozen_mapping
from servicedelivery.eventlog._instants import parse_instant, parse_instants
from servicedelivery.model._validation import Validated, to_instant, to_tuple

__all__ = ["fast_builder", "fast_columns", "parse_payload", "parse_payloads"]

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


def parse_payloads(texts: list[str]) -> list[Any] | None:
    """``parse_payload`` of each text in one C-level pass, or ``None`` if one is not JSON alone.

    ``None`` when a text is not one whole JSON value with nothing around it: ``parse_payload`` one
    by one then says which, or reads it as ``json.loads`` does (with whitespace around it).
    """
    try:
        scanned = list(map(_scan, texts, itertools.repeat(0)))
    except ValueError:
        return None
    # A text that is not JSON at all raises StopIteration, which ends the map early.
    if len(scanned) != len(texts) or list(map(_end, scanned)) != list(map(len, texts)):
        return None
    return list(map(_value, scanned))


_value = operator.itemgetter(0)
_end = operator.itemgetter(1)


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


def _fields(cls: type[Any]) -> list[tuple[str, object]] | None:
    """The (name, type) of each field of ``cls`` if it can be built from trusted payloads."""
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
    fields = []
    for field in attrs.fields(cls):
        kind = hints.get(field.name)
        if not field.init or field.alias != field.name or not _converter_fits(field, kind):
            return None
        fields.append((field.name, kind))
    return fields


def _make_builder(cls: type[Any], checked: bool) -> Builder | None:
    fields = _fields(cls)
    if fields is None:
        return None
    plain: list[tuple[str, type]] = []
    built: list[tuple[str, Callable[[Any], Any]]] = []
    for name, kind in fields:
        value = _field_value(kind, checked)
        if value is None:
            return None
        if isinstance(value, type):
            plain.append((name, value))
        else:
            built.append((name, value))
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


Columns = Callable[[list[Any]], list[Any] | None]
"""Builds the values of a column of JSON values in C-level passes over it, or returns ``None`` when
one of them is not of the usual shape (the column is then built value by value)."""


def _of_types(values: list[Any], kinds: set[type]) -> bool:
    return set(map(type, values)) <= kinds


def _plain_columns(kind: type) -> Columns:
    def column(values: list[Any]) -> list[Any] | None:
        return values if _of_types(values, {kind}) else None

    return column


def _member_columns(cls: type[enum.Enum]) -> Columns:
    members = {member.value: member for member in cls if type(member.value) is str}

    def column(values: list[Any]) -> list[Any] | None:
        if not _of_types(values, {str}):
            return None
        built = list(map(members.get, values))
        return None if None in built else built

    return column


def _instant_columns(values: list[Any]) -> list[Any] | None:
    if not _of_types(values, {str}):
        return None
    try:
        return list(parse_instants(values))
    except ValueError:
        return None


def _decimal_columns(values: list[Any]) -> list[Any] | None:
    if not _of_types(values, {str}):
        return None
    try:
        built = list(map(decimal.Decimal, values))
    except decimal.InvalidOperation:
        return None
    return built if all(map(decimal.Decimal.is_finite, built)) else None


def _text_mapping_columns(values: list[Any]) -> list[Any] | None:
    if not _of_types(values, {dict}):
        return None
    if not _of_types(list(itertools.chain.from_iterable(map(dict.values, values))), {str}):
        return None
    return list(map(types.MappingProxyType, values))


def _texts_columns(values: list[Any]) -> list[Any] | None:
    if not _of_types(values, {list}):
        return None
    if not _of_types(list(itertools.chain.from_iterable(values)), {str}):
        return None
    return list(map(tuple, values))


def _optional_columns(inner: Columns) -> Columns:
    def column(values: list[Any]) -> list[Any] | None:
        present = list(map(operator.is_not, values, itertools.repeat(None)))
        if all(present):
            return inner(values)
        built = inner(list(itertools.compress(values, present)))
        if built is None:
            return None
        result = list(values)  # the Nones stay, the others are replaced by what was built
        _drain(map(result.__setitem__, itertools.compress(range(len(values)), present), built))
        return result

    return column


def _drain(iterator: Any) -> None:
    collections.deque(iterator, maxlen=0)


def _field_columns(kind: object) -> Columns | None:  # noqa: PLR0911
    """``_field_value`` for a whole column: how a field's values are built, or ``None``."""
    if kind in (str, int, bool):
        return _plain_columns(typing.cast(type, kind))
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _member_columns(kind)
    if kind is pendulum.DateTime:
        return _instant_columns
    if kind is decimal.Decimal:
        return _decimal_columns
    if _is_text_mapping(kind):
        return _text_mapping_columns
    if _is_texts(kind):
        return _texts_columns
    if isinstance(kind, type) and attrs.has(kind):
        return fast_columns(kind)
    base = _optional_base(kind)
    if base is not None:
        inner = _field_columns(base)
        return None if inner is None else _optional_columns(inner)
    return None


def _setter(cls: type[Any], name: str) -> Callable[[Any, Any], None]:
    """Sets a field on an instance: its slot's descriptor (a C-level setter), found in the MRO."""
    for klass in cls.__mro__:
        slot = vars(klass).get(name)
        if isinstance(slot, types.MemberDescriptorType):
            return slot.__set__
    return lambda instance, value: object.__setattr__(instance, name, value)


_COLUMNS: dict[type, Columns | None] = {}


def fast_columns(cls: type[Any]) -> Columns | None:
    """``fast_builder(cls)`` for many payloads' data at once, or ``None`` if ``cls`` has none.

    Each field's values are checked and built with C-level passes over the column (types by
    ``set(map(type, ...))``, enum members by look-up, instants by ``parse_instants``, nested
    entities by their own columns) and set on instances made by ``object.__new__`` through the
    slot's descriptor. It gives what ``fast_builder`` gives each item when every item is of the
    usual shape, and ``None`` when one is not (a test checks both), so that the caller builds them
    one by one and the ones of another shape go to the checked path.
    """
    if cls in _COLUMNS:
        return _COLUMNS[cls]
    _COLUMNS[cls] = None  # while it is made: a class that contains itself has none
    columns = _COLUMNS[cls] = _make_columns(cls)
    return columns


def _make_columns(cls: type[Any]) -> Columns | None:
    if fast_builder(cls) is None:
        return None
    fields = _fields(cls)
    assert fields is not None  # the builder has them
    made = [(name, _field_columns(kind), _setter(cls, name)) for name, kind in fields]
    if any(column is None for _, column, _ in made):
        return None
    names = frozenset(name for name, _ in fields)
    plan = [
        (operator.itemgetter(name), typing.cast(Columns, column), set_field)
        for name, column, set_field in made
    ]
    new = object.__new__

    def build(rows: list[Any]) -> list[Any] | None:
        if not _of_types(rows, {dict}):
            return None
        if not all(map(operator.eq, map(dict.keys, rows), itertools.repeat(names))):
            return None
        instances = list(map(new, itertools.repeat(cls, len(rows))))
        for item, column, set_field in plan:
            built = column(list(map(item, rows)))
            if built is None:
                return None
            _drain(map(set_field, instances, built))
        return instances

    return build
