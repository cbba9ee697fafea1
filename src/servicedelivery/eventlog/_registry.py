"""The event registry: the stable name and schema version of every event type, and its upcasters.

Stored events are named by the registry, never by Python class names, so classes can be renamed or
moved without touching the trail. When an event type's fields change, its schema version goes up and
an *upcaster* (a plain ``dict -> dict`` function) turns data recorded at the old version into data of
the next version; reading applies them in turn, so old records always decode into today's classes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from servicedelivery.errors import (
    DefinitionError,
    FieldError,
    UnknownEventTypeError,
    ValidationError,
)
from servicedelivery.eventlog._canonical import canonical_json
from servicedelivery.eventlog._entity_events import (
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseUpdated,
    InvoiceApproved,
    InvoiceDisputed,
    InvoiceReceived,
    OrderAmended,
    OrderCancelled,
    OrderPlaced,
    ServiceRegistered,
    ServiceUpdated,
    SiteRegistered,
    SiteUpdated,
)
from servicedelivery.eventlog._escalations import EscalationCleared, EscalationRaised
from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._milestone_events import (
    BlockReclassified,
    MilestoneBlocked,
    MilestoneCancelled,
    MilestoneCompleted,
    MilestonePlanned,
    MilestoneReopened,
    MilestoneStarted,
    MilestoneTransitioned,
    MilestoneUnblocked,
    TargetDateChanged,
)
from servicedelivery.model import structure, unstructure
from servicedelivery.model._validation import slug

__all__ = ["DEFAULT_REGISTRY", "EventRegistry", "EventType", "Upcaster"]

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns an event's data at one schema version into its data at the next version."""

_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


@attrs.frozen
class EventType:
    """One registered event type.

    Attributes:
        name: The stable name stored with every event, such as ``"milestone.blocked"``: dotted
            lowercase codes, the first being the kind of stream it is recorded in.
        cls: The event class, a subclass of :class:`Event`.
        version: The current schema version, from 1.
        upcasters: For every older version ``v``, the function that turns data of version ``v``
            into data of version ``v + 1``.
    """

    name: str
    cls: type[Event]
    version: int = 1
    upcasters: Mapping[int, Upcaster] = attrs.field(factory=dict)

    def problems(self) -> Iterator[FieldError]:
        """Every problem with this definition, paths relative to it."""
        # Typed as objects: the constructor may have been handed anything.
        name: object = self.name
        cls: object = self.cls
        version: object = self.version
        upcasters: object = self.upcasters
        if not isinstance(name, str) or not _TYPE_NAME.fullmatch(name):
            yield FieldError("name", name, "dotted lowercase codes such as 'milestone.blocked'")
        if not (isinstance(cls, type) and issubclass(cls, Event) and attrs.has(cls)):
            yield FieldError("cls", cls, "an attrs class derived from Event")
        elif slug(kind := getattr(cls, "stream_kind", None)) is not None:
            yield FieldError("cls.stream_kind", kind, "a lowercase code")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            yield FieldError("version", version, "an integer >= 1")
            return
        wanted = set(range(1, version))
        given = set(upcasters) if isinstance(upcasters, Mapping) else set()
        if given != wanted or not all(callable(f) for f in self.upcasters.values()):
            yield FieldError(
                "upcasters",
                sorted(given),
                f"one callable for each older version ({sorted(wanted) or 'none'})",
            )

    def upcast(self, data: dict[str, Any], schema_version: int) -> dict[str, Any]:
        """Data recorded at ``schema_version``, brought to the current version.

        Raises:
            UnknownEventTypeError: The version is not one of this type's.
            ValidationError: An upcaster failed on the data, or returned something else than a dict.
        """
        given: object = schema_version
        if not isinstance(given, int) or isinstance(given, bool) or not 1 <= given <= self.version:
            raise UnknownEventTypeError.single(
                "schema_version",
                given,
                f"a schema version of {self.name!r} from 1 to {self.version}",
            )
        for version in range(schema_version, self.version):
            try:
                data = self.upcasters[version](data)
            except Exception as error:  # a host's function: any failure means the data is bad
                raise ValidationError.single(
                    "payload",
                    data,
                    f"data the upcaster from version {version} of {self.name!r} accepts "
                    f"({type(error).__name__}: {error})",
                ) from error
            result: object = data
            if not isinstance(result, dict):
                raise ValidationError.single(
                    "payload", result, f"a dict from the upcaster from version {version}"
                )
        return data


def _as_types(value: Iterable[EventType]) -> tuple[EventType, ...]:
    return tuple(value)


@attrs.frozen
class EventRegistry:
    """The event types a log can record and read, by name and by class.

    Build one with the types you need, or extend :data:`DEFAULT_REGISTRY` with your own.

    Attributes:
        types: The registered types; their order gives each type its code in columnar reads.
    """

    types: tuple[EventType, ...] = attrs.field(converter=_as_types)
    _by_name: dict[str, EventType] = attrs.field(init=False, repr=False, eq=False)
    _by_class: dict[type, EventType] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        names: dict[object, int] = {}
        classes: dict[object, int] = {}
        given: tuple[object, ...] = self.types
        for index, event_type in enumerate(given):
            if not isinstance(event_type, EventType):
                errors.append(FieldError(f"types[{index}]", event_type, "an EventType"))
                continue
            errors.extend(error.with_prefix(f"types[{index}]") for error in event_type.problems())
            for key, seen, field in (
                (event_type.name, names, "name"),
                (event_type.cls, classes, "cls"),
            ):
                if key in seen:
                    errors.append(
                        FieldError(
                            f"types[{index}].{field}",
                            key,
                            f"a {field} not already registered by types[{seen[key]}]",
                        )
                    )
                seen.setdefault(key, index)
        if errors:
            raise DefinitionError(errors, title="invalid event registry")
        object.__setattr__(self, "_by_name", {t.name: t for t in self.types})
        object.__setattr__(self, "_by_class", {t.cls: t for t in self.types})

    def __iter__(self) -> Iterator[EventType]:
        return iter(self.types)

    def __len__(self) -> int:
        return len(self.types)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """Every type name, in order: a type's code in columnar reads is its index here."""
        return tuple(self._by_name)

    def get(self, name: str, *, path: str = "type") -> EventType:
        """The type registered under ``name``.

        Raises:
            UnknownEventTypeError: No type has this name.
        """
        event_type = self._by_name.get(name)
        if event_type is None:
            raise UnknownEventTypeError.single(
                path, name, f"a registered event type name ({', '.join(self._by_name)})"
            )
        return event_type

    def type_of(self, event: object, *, path: str = "event") -> EventType:
        """The type ``event``'s class is registered as.

        Raises:
            UnknownEventTypeError: Its class is not registered.
        """
        event_type = self._by_class.get(type(event))
        if event_type is None:
            raise UnknownEventTypeError.single(
                path, event, "an instance of a registered event class"
            )
        return event_type

    def find(self, cls: type) -> EventType | None:
        """The type ``cls`` is registered as, or ``None``."""
        return self._by_class.get(cls)

    def extended(self, *types: EventType) -> EventRegistry:
        """A registry with these types added; a type with a registered name replaces it."""
        replaced = {event_type.name: event_type for event_type in types}
        kept = [replaced.pop(event_type.name, event_type) for event_type in self.types]
        return EventRegistry((*kept, *replaced.values()))

    def encode(self, event: Event) -> tuple[EventType, str]:
        """The type of ``event`` and its payload as canonical JSON text.

        Raises:
            UnknownEventTypeError: Its class is not registered.
        """
        event_type = self.type_of(event)
        return event_type, canonical_json(unstructure(event))

    def decode(self, name: str, data: object, *, schema_version: int | None = None) -> Event:
        """The event of type ``name`` that ``data`` describes, upcast from ``schema_version``.

        Args:
            name: The registered type name.
            data: The payload as plain data (a dict, as parsed from JSON).
            schema_version: The version the data was written at; the current one by default.

        Raises:
            UnknownEventTypeError: The name or the version is unknown.
            ValidationError: The data does not describe a valid event, listing every bad field with
                its path under ``payload``.
        """
        event_type = self.get(name)
        if not isinstance(data, dict):
            raise ValidationError.single("payload", data, "a JSON object")
        if schema_version is not None:
            data = event_type.upcast(data, schema_version)
        try:
            return structure(data, event_type.cls)
        except ValidationError as error:
            raise error.with_prefix("payload") from None


def _types(*pairs: tuple[str, type[Event]]) -> tuple[EventType, ...]:
    return tuple(EventType(name, cls) for name, cls in pairs)


DEFAULT_REGISTRY = EventRegistry(
    _types(
        ("milestone.planned", MilestonePlanned),
        ("milestone.started", MilestoneStarted),
        ("milestone.blocked", MilestoneBlocked),
        ("milestone.block_reclassified", BlockReclassified),
        ("milestone.unblocked", MilestoneUnblocked),
        ("milestone.completed", MilestoneCompleted),
        ("milestone.cancelled", MilestoneCancelled),
        ("milestone.reopened", MilestoneReopened),
        ("milestone.transitioned", MilestoneTransitioned),
        ("milestone.target_date_changed", TargetDateChanged),
        ("order.placed", OrderPlaced),
        ("order.amended", OrderAmended),
        ("order.cancelled", OrderCancelled),
        ("site.registered", SiteRegistered),
        ("site.updated", SiteUpdated),
        ("service.registered", ServiceRegistered),
        ("service.updated", ServiceUpdated),
        ("case.opened", CaseOpened),
        ("case.updated", CaseUpdated),
        ("case.resolved", CaseResolved),
        ("case.reopened", CaseReopened),
        ("invoice.received", InvoiceReceived),
        ("invoice.disputed", InvoiceDisputed),
        ("invoice.approved", InvoiceApproved),
        ("escalation.raised", EscalationRaised),
        ("escalation.cleared", EscalationCleared),
    )
)
"""Every event type the library defines, at schema version 1."""
