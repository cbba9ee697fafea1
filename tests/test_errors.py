from __future__ import annotations

import pickle

import pendulum
import pytest

from servicedelivery import errors
from servicedelivery.errors import (
    MISSING,
    ConcurrencyError,
    DefinitionError,
    EventIdConflictError,
    EventLogError,
    FieldError,
    IntegrityError,
    InvalidTransition,
    OptionalDependencyError,
    ServiceDeliveryError,
    SourceError,
    UnknownEventTypeError,
    UnmappedStatusError,
    ValidationError,
    join_path,
)


@pytest.mark.parametrize(
    ("leaf", "builtin"),
    [
        (ValidationError, ValueError),
        (UnmappedStatusError, ValueError),
        (DefinitionError, ValueError),
        (UnknownEventTypeError, ValueError),
        (InvalidTransition, ValueError),
        (EventIdConflictError, ValueError),
        (SourceError, ValueError),
        (OptionalDependencyError, ImportError),
    ],
)
def test_leaves_inherit_the_root_and_the_fitting_builtin(leaf: type, builtin: type) -> None:
    assert issubclass(leaf, ServiceDeliveryError)
    assert issubclass(leaf, builtin)


def test_event_log_errors_share_a_branch() -> None:
    for leaf in (ConcurrencyError, EventIdConflictError, IntegrityError):
        assert issubclass(leaf, EventLogError)


def test_every_error_class_is_drawn_in_the_tree() -> None:
    doc = errors.__doc__ or ""
    names = [
        name
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), ServiceDeliveryError)
    ]
    assert names
    for name in names:
        assert name in doc, name


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        ("", "a", "a"),
        ("a", "", "a"),
        ("orders[2]", "target_at", "orders[2].target_at"),
        ("orders", "[2]", "orders[2]"),
        ("orders", "[2].target_at", "orders[2].target_at"),
        ("calendars", "['paris']", "calendars['paris']"),
        ("calendars", '["it\'s"]', 'calendars["it\'s"]'),
        # Field names that only look like the start of a subscript are fields.
        ("amount", "[", "amount.["),
        ("amount", "[x]", "amount.[x]"),
        ("amount", "[0", "amount.[0"),
    ],
)
def test_join_path(prefix: str, path: str, expected: str) -> None:
    assert join_path(prefix, path) == expected


def test_message_names_field_value_and_expectation() -> None:
    error = ValidationError.single(
        "orders[2].target_at", "2024-01-01T00:00:00", "an aware datetime"
    )
    assert str(error) == (
        "orders[2].target_at: expected an aware datetime, got '2024-01-01T00:00:00'"
    )


def test_missing_value_and_datetimes_read_well() -> None:
    assert str(FieldError("id", MISSING, "a string")) == "id: missing; expected a string"
    when = pendulum.datetime(2024, 3, 31, 9, tz="Europe/Paris")
    assert "'2024-03-31T09:00:00+02:00'" in str(FieldError("at", when, "x"))


def test_several_errors_are_listed_under_a_title() -> None:
    error = ValidationError(
        [FieldError("a", 1, "a string"), FieldError("b", MISSING, "a value")], title="invalid X"
    )
    assert (
        str(error)
        == "invalid X:\n  - a: expected a string, got 1\n  - b: missing; expected a value"
    )


def test_with_prefix_relocates_every_error_and_keeps_the_class() -> None:
    error = DefinitionError([FieldError("x", 1, "y"), FieldError("[0]", 2, "z")])
    moved = error.with_prefix("rules[3]")
    assert type(moved) is DefinitionError
    assert [e.path for e in moved.errors] == ["rules[3].x", "rules[3][0]"]
    assert [e.path for e in error.errors] == ["x", "[0]"]


def test_an_empty_validation_error_is_refused() -> None:
    with pytest.raises(TypeError):
        ValidationError([])


@pytest.mark.parametrize(
    "error",
    [
        ValidationError.single("a", 1, "b"),
        UnmappedStatusError([(("Wait", "User"), 3)], columns=("status", "sub")),
        InvalidTransition(item="m1", state="done", trigger="block", allowed=["reopen"]),
        ConcurrencyError(stream_id="s", expected=2, actual=3),
        IntegrityError("chain broken", position=7),
        SourceError("not an event log", source="x.csv"),
        OptionalDependencyError("pandas", extra="pandas", purpose="to_pandas()"),
    ],
)
def test_errors_survive_pickling(error: ServiceDeliveryError) -> None:
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert clone.__dict__ == error.__dict__


def test_invalid_transition_lists_allowed_triggers() -> None:
    error = InvalidTransition(
        item="M-1", state="done", trigger="block", allowed=["reopen", "audit"]
    )
    assert str(error) == (
        "milestone 'M-1' in state 'done' cannot 'block'; allowed from 'done': audit, reopen"
    )
    assert error.allowed == ("audit", "reopen")


def test_unmapped_status_error_lists_every_status_with_counts() -> None:
    error = UnmappedStatusError([(("Wait", "User"), 3), (("Odd",), 1)], columns=("a", "b"))
    assert error.statuses == ((("Wait", "User"), 3), (("Odd",), 1))
    text = str(error)
    assert "('Wait', 'User')" in text
    assert "3 rows" in text
    assert "'Odd'" in text
    assert "1 row)" in text


def test_optional_dependency_error_says_how_to_install() -> None:
    error = OptionalDependencyError("pandas", extra="pandas", purpose="converting results")
    assert str(error) == (
        "converting results needs pandas, which is not installed; "
        "install it with: pip install 'servicedelivery[pandas]'"
    )
    assert error.name == "pandas"
