"""Every error the library raises, under one root.

Catch :class:`ServiceDeliveryError` to catch anything this library raises on purpose. Each leaf also
inherits the builtin that fits, so code written against the builtins keeps working (a validation error
is a :class:`ValueError`).

The tree::

    ServiceDeliveryError
    ├── ValidationError (ValueError)         input data is not what was expected; lists every bad field
    │   ├── UnmappedStatusError               source statuses a status map does not cover
    │   ├── DefinitionError                   a declared definition contradicts itself
    │   │                                     (taxonomy, status map, lifecycle, calendar, SLA, policy)
    │   └── UnknownEventTypeError             an event type name the registry does not know
    ├── InvalidTransition (ValueError)        a trigger the lifecycle does not allow from a state
    ├── EventLogError                         the event log refused or could not complete an operation
    │   ├── ConcurrencyError                  the stream is not at the expected version
    │   ├── EventIdConflictError (ValueError) an event id reused with a different payload
    │   └── IntegrityError                    stored records fail verification (tampering, corruption)
    ├── SourceError (ValueError)              a file or table that is not a usable event source
    └── OptionalDependencyError (ImportError) an optional extra (pandas, matplotlib, ...) is missing

Every message names the field (with its path for nested data such as ``orders[2].target_at``), the
bad value, and what was expected. The same facts are attributes, so a host can render them itself.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

__all__ = [
    "MISSING",
    "ConcurrencyError",
    "DefinitionError",
    "EventIdConflictError",
    "EventLogError",
    "FieldError",
    "IntegrityError",
    "InvalidTransition",
    "OptionalDependencyError",
    "ServiceDeliveryError",
    "SourceError",
    "UnknownEventTypeError",
    "UnmappedStatusError",
    "ValidationError",
    "join_path",
]

_MAX_VALUE_REPR = 80

# What the library writes for a list index or a mapping key: [3], ['key'] or ["it's"].
_SUBSCRIPT = re.compile(r"""\[(?:\d+|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\](?:[.\[]|$)""")


def join_path(prefix: str, path: str) -> str:
    """Join two parts of a field path: ``join_path("orders[2]", "target_at")``.

    A subscript (``[3]``, ``['key']``) attaches without a dot; an empty part disappears. A field
    whose name merely starts with ``[`` is still a field, joined with a dot.
    """
    if not prefix:
        return path
    if not path:
        return prefix
    if _SUBSCRIPT.match(path):
        return prefix + path
    return f"{prefix}.{path}"


def _short_repr(value: object) -> str:
    # Datetimes read better as ISO 8601 than as their constructor call.
    text = repr(value.isoformat()) if isinstance(value, (dt.date, dt.time)) else repr(value)
    if len(text) > _MAX_VALUE_REPR:
        return text[: _MAX_VALUE_REPR - 3] + "..."
    return text


class _Missing:
    """Marks a field that was absent, as opposed to present with the value ``None``."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@attrs.frozen
class FieldError:
    """One bad field: where it is, what it held and what was expected.

    Attributes:
        path: Where the field is, such as ``orders[2].target_at``; empty for the value as a whole.
        value: The value found there (``MISSING`` when the field was absent).
        expected: What would have been accepted, phrased to complete "expected ...".
    """

    path: str
    value: object
    expected: str

    def __str__(self) -> str:
        where = self.path or "(top level)"
        if self.value is MISSING:
            return f"{where}: missing; expected {self.expected}"
        return f"{where}: expected {self.expected}, got {_short_repr(self.value)}"

    def with_prefix(self, prefix: str) -> FieldError:
        """Return the same error located under ``prefix``."""
        return attrs.evolve(self, path=join_path(prefix, self.path))


class ServiceDeliveryError(Exception):
    """The root of every error this library raises on purpose."""


class ValidationError(ServiceDeliveryError, ValueError):
    """Input data is not what was expected.

    One error lists every bad field found, so a user can fix them all in one go.

    Attributes:
        errors: The bad fields, in the order they were found.
    """

    errors: tuple[FieldError, ...]

    def __init__(self, errors: Iterable[FieldError], *, title: str | None = None) -> None:
        self.errors = tuple(errors)
        self.title = title
        if not self.errors:
            raise TypeError("a ValidationError needs at least one FieldError")
        super().__init__(self._message())

    @classmethod
    def single(cls, path: str, value: object, expected: str) -> ValidationError:
        """Build the error for one bad field."""
        return cls([FieldError(path, value, expected)])

    def _message(self) -> str:
        if len(self.errors) == 1 and self.title is None:
            return str(self.errors[0])
        head = self.title or f"{len(self.errors)} invalid fields"
        return head + ":\n" + "\n".join(f"  - {error}" for error in self.errors)

    def with_prefix(self, prefix: str) -> ValidationError:
        """Return the same error with every path located under ``prefix``."""
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        clone.errors = tuple(error.with_prefix(prefix) for error in self.errors)
        Exception.__init__(clone, clone._message())
        return clone

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle through ``cls(*args)``; keep the structured errors instead.
        return (_rebuild, (self.__class__, self.__dict__.copy()))


def _rebuild(cls: type[ValidationError], state: dict[str, Any]) -> ValidationError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._message())
    return error


class UnmappedStatusError(ValidationError):
    """Source statuses that a status map does not cover, all of them at once.

    Attributes:
        statuses: Each uncovered combination of source values, with how many rows carry it.
    """

    def __init__(
        self, statuses: Sequence[tuple[tuple[str, ...], int]], *, columns: Sequence[str]
    ) -> None:
        self.statuses = tuple(statuses)
        self.columns = tuple(columns)
        label = " + ".join(self.columns)
        errors = [
            FieldError(
                label,
                values[0] if len(values) == 1 else values,
                f"a status the map covers ({count} row{'s' if count != 1 else ''})",
            )
            for values, count in self.statuses
        ]
        super().__init__(
            errors,
            title=f"{len(self.statuses)} status value(s) not covered by the status map "
            "(add rules for them or declare a fallback)",
        )


class DefinitionError(ValidationError):
    """A declared definition (taxonomy, status map, lifecycle, calendar, SLA, policy) is wrong.

    Raised when the definition is loaded or built, never later, with the path of every problem.
    """


class UnknownEventTypeError(ValidationError):
    """An event type name, or a schema version, that the event registry does not know."""


class InvalidTransition(ServiceDeliveryError, ValueError):  # noqa: N818 - the domain's own word
    """A trigger that the lifecycle does not allow from the item's current state.

    Attributes:
        item: The id of the milestone (or other item) that was asked to move.
        state: The state it was in.
        trigger: The trigger that was refused.
        allowed: The triggers the lifecycle allows from ``state``, sorted.
        reason: Why a trigger that exists from this state was refused (a failed guard), if so.
    """

    def __init__(
        self,
        *,
        item: str,
        state: str,
        trigger: str,
        allowed: Iterable[str],
        reason: str | None = None,
    ) -> None:
        self.item = item
        self.state = state
        self.trigger = trigger
        self.allowed = tuple(sorted(allowed))
        self.reason = reason
        allowed_text = ", ".join(self.allowed) if self.allowed else "none (terminal state)"
        if reason is None:
            message = (
                f"milestone {item!r} in state {state!r} cannot {trigger!r}; "
                f"allowed from {state!r}: {allowed_text}"
            )
        else:
            message = f"milestone {item!r} in state {state!r} cannot {trigger!r}: {reason}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_transition,
            (self.item, self.state, self.trigger, self.allowed, self.reason),
        )


def _rebuild_transition(
    item: str, state: str, trigger: str, allowed: tuple[str, ...], reason: str | None
) -> InvalidTransition:
    return InvalidTransition(
        item=item, state=state, trigger=trigger, allowed=allowed, reason=reason
    )


class EventLogError(ServiceDeliveryError):
    """The event log refused an operation or could not complete it; nothing was written."""


class ConcurrencyError(EventLogError):
    """The stream was not at the version the writer expected; the batch was not written.

    Attributes:
        stream_id: The stream that was written to.
        expected: What the writer expected (a version, or a description such as "no stream").
        actual: The stream's version when the append was attempted (0 when it does not exist).
    """

    def __init__(self, *, stream_id: str, expected: object, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id!r}: expected version {expected}, but the stream is at version "
            f"{actual}; nothing was written"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_concurrency,
            (self.stream_id, self.expected, self.actual),
        )


def _rebuild_concurrency(stream_id: str, expected: object, actual: int) -> ConcurrencyError:
    return ConcurrencyError(stream_id=stream_id, expected=expected, actual=actual)


class EventIdConflictError(EventLogError, ValueError):
    """An event id already recorded with a different stream, type or payload.

    A retry of the very same batch is not an error (appends are idempotent by event id); reusing an
    id for different content is.
    """


class IntegrityError(EventLogError):
    """Stored records fail verification: tampering, corruption, or a broken hash chain.

    Attributes:
        position: The first global position where verification failed, when known.
    """

    def __init__(self, message: str, *, position: int | None = None) -> None:
        self.position = position
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.args[0],), {"position": self.position})


class SourceError(ServiceDeliveryError, ValueError):
    """A file, table or database that cannot be read as an event source.

    Attributes:
        source: What was being read (a path or a short description).
    """

    def __init__(self, message: str, *, source: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_source, (self.args[0], self.source))


def _rebuild_source(full_message: str, source: str) -> SourceError:
    error = SourceError.__new__(SourceError)
    error.source = source
    Exception.__init__(error, full_message)
    return error


class OptionalDependencyError(ServiceDeliveryError, ImportError):
    """A feature needs an optional extra that is not installed; the core works without it.

    Attributes:
        package: The missing package, such as ``"pandas"``.
        extra: The extra of ``servicedelivery`` that installs it.
        purpose: What needed it.
    """

    def __init__(self, package: str, *, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        self.purpose = purpose
        super().__init__(
            f"{purpose} needs {package}, which is not installed; "
            f"install it with: pip install 'servicedelivery[{extra}]'",
            name=package,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_optional, (self.package, self.extra, self.purpose))


def _rebuild_optional(package: str, extra: str, purpose: str) -> OptionalDependencyError:
    return OptionalDependencyError(package, extra=extra, purpose=purpose)
