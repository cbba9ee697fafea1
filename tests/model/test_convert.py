from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import MISSING, ValidationError
from servicedelivery.model import (
    Case,
    Invoice,
    Milestone,
    Money,
    Order,
    Portfolio,
    Service,
    Site,
    make_converter,
    structure,
    unstructure,
)
from servicedelivery.testing import (
    cases,
    invoices,
    milestones,
    orders,
    portfolios,
    services,
    sites,
)

ENTITIES: list[tuple[type, st.SearchStrategy[Any]]] = [
    (Site, sites()),
    (Service, services()),
    (Order, orders()),
    (Milestone, milestones()),
    (Case, cases()),
    (Invoice, invoices()),
    (Portfolio, portfolios()),
]


def json_roundtrip(data: Any) -> Any:
    return json.loads(json.dumps(data))


@pytest.mark.parametrize(("cls", "strategy"), ENTITIES, ids=[c.__name__ for c, _ in ENTITIES])
def test_every_entity_round_trips_through_json(cls: type, strategy: st.SearchStrategy[Any]) -> None:
    @given(strategy)
    def check(entity: Any) -> None:
        data = json_roundtrip(unstructure(entity))
        assert structure(data, cls) == entity
        # And the data form is stable: unstructuring the copy gives the same data.
        assert unstructure(structure(data, cls)) == data

    check()


def test_data_form_is_plain_json() -> None:
    order = Order(
        id="O1",
        customer="acme",
        site_id="S1",
        service_ids=("SV1",),
        requested_at=pendulum.datetime(2024, 3, 31, 9, 30, tz="Europe/Paris"),
        value=Money(amount=Decimal("1250.00"), currency="EUR"),
    )
    assert unstructure(order) == {
        "id": "O1",
        "customer": "acme",
        "site_id": "S1",
        "service_ids": ["SV1"],
        "requested_at": "2024-03-31T09:30:00+02:00",
        "target_at": None,
        "priority": "medium",
        "value": {"amount": "1250.00", "currency": "EUR"},
    }


def test_one_error_lists_every_failing_field_with_its_path() -> None:
    payload = {
        "id": 5,
        "customer": "acme",
        "site_id": "S1",
        "service_ids": ["SV1", 7],
        "requested_at": "2024-01-01T09:00:00",
        "priority": "urgent",
        "value": {"amount": 1.5, "currency": "EUR"},
        "colour": "red",
    }
    with pytest.raises(ValidationError) as info:
        structure(payload, Order)
    found = {e.path: e for e in info.value.errors}
    assert set(found) == {
        "id",
        "service_ids[1]",
        "requested_at",
        "priority",
        "value.amount",
        "colour",
    }
    assert found["id"].value == 5
    assert found["service_ids[1]"].value == 7
    assert "naive datetimes are rejected" in found["requested_at"].expected
    assert found["priority"].expected == "one of 'critical', 'high', 'medium', 'low'"
    assert found["value.amount"].value == 1.5
    assert found["colour"].expected.startswith("a field of Order")


def test_a_bad_type_never_hides_a_bad_value_elsewhere() -> None:
    payload = {"id": 5, "name": "n", "region": "r", "timezone": "Nowhere/Special", "country": "FR"}
    with pytest.raises(ValidationError) as info:
        structure(payload, Site)
    assert [e.path for e in info.value.errors] == ["id", "timezone"]
    assert info.value.errors[1].value == "Nowhere/Special"


def test_nested_entity_checks_carry_their_path() -> None:
    site = {"id": "S1", "name": "n", "region": "r", "timezone": "UTC", "country": "FR"}
    bad_site = dict(site, id="S2", timezone="Nowhere/Special")
    with pytest.raises(ValidationError) as info:
        structure({"sites": [site, bad_site]}, Portfolio)
    assert [e.path for e in info.value.errors] == ["sites[1].timezone"]


def test_missing_fields_are_reported_as_missing() -> None:
    with pytest.raises(ValidationError) as info:
        structure({"id": "S1"}, Site)
    missing = [e.path for e in info.value.errors if e.value is MISSING]
    assert missing == ["name", "region", "timezone", "country"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "a list"),
        ({"a": 1}, "a list"),
        (None, "a list"),
    ],
)
def test_sequences_are_not_coerced(value: object, expected: str) -> None:
    payload = {
        "id": "O1",
        "customer": "c",
        "site_id": "S",
        "service_ids": value,
        "requested_at": "2024-01-01T00:00:00Z",
    }
    with pytest.raises(ValidationError) as info:
        structure(payload, Order)
    [error] = info.value.errors
    assert error.path == "service_ids"
    assert error.expected == expected


@pytest.mark.parametrize("value", [5, True, None, 1.0])
def test_strings_are_not_coerced(value: object) -> None:
    site = {"id": value, "name": "n", "region": "r", "timezone": "UTC", "country": "FR"}
    with pytest.raises(ValidationError) as info:
        structure(site, Site)
    assert [e.path for e in info.value.errors] == ["id"]


def test_decimal_rejects_floats_and_garbage() -> None:
    for amount in (1.5, "twelve", True, "Infinity", None):
        with pytest.raises(ValidationError) as info:
            structure({"amount": amount, "currency": "EUR"}, Money)
        assert [e.path for e in info.value.errors] == ["amount"]
    assert structure({"amount": 12, "currency": "EUR"}, Money).amount == Decimal(12)


def test_top_level_non_mapping() -> None:
    with pytest.raises(ValidationError) as info:
        structure(["not", "a", "site"], Site)
    assert str(info.value).endswith(
        "(top level): expected a mapping of Site fields, got ['not', 'a', 'site']"
    )


def test_converters_are_independent() -> None:
    mine = make_converter()
    mine.register_unstructure_hook(Money, lambda m: f"{m.amount} {m.currency}")
    money = Money(amount=Decimal("1.00"), currency="EUR")
    assert unstructure(money, converter=mine) == "1.00 EUR"
    assert unstructure(money) == {"amount": "1.00", "currency": "EUR"}


# --- generated bad payloads -------------------------------------------------------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.just("2024-01-01T00:00:00"),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def node_paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from node_paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from node_paths(value, (*prefix, index))


def replace_at(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[head] = replace_at(data[head], tuple(rest), new)
    return copy


def delete_at(data: Any, path: tuple[Any, ...]) -> Any:
    head, *rest = path
    copy = dict(data) if isinstance(data, dict) else list(data)
    if rest:
        copy[head] = delete_at(data[head], tuple(rest))
    else:
        del copy[head]
    return copy


def render(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[type, Any, str | None]:
    """A payload with one random corruption, and the path that must be reported if it is certain."""
    cls, strategy = draw(st.sampled_from(ENTITIES))
    data = json_roundtrip(unstructure(draw(strategy)))
    path = draw(st.sampled_from(list(node_paths(data))))
    kind = draw(st.sampled_from(["replace", "delete", "extra"]))
    if kind == "extra":
        target = path
        while target and not isinstance(_get(data, target), dict):
            target = target[:-1]
        holder = _get(data, target)
        if not isinstance(holder, dict):
            return cls, draw(JUNK), None
        extra = draw(st.text(min_size=1, max_size=6).filter(lambda k: k not in holder))
        return cls, replace_at(data, target, {**holder, extra: 1}), render((*target, extra))
    if kind == "delete" and path and isinstance(_get(data, path[:-1]), dict):
        return cls, delete_at(data, path), None
    return cls, replace_at(data, path, draw(JUNK)), None


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@given(corrupted())
def test_bad_payloads_raise_only_the_validation_error(case: tuple[type, Any, str | None]) -> None:
    cls, payload, certain_path = case
    try:
        structure(payload, cls)
    except ValidationError as error:
        reported = [e.path for e in error.errors]
    else:
        reported = None
    if certain_path is not None:
        # An unknown key is never valid, and its path is reported.
        assert reported is not None
        assert certain_path in reported
    # Otherwise some corruptions are still valid (a None where None is allowed); anything else must
    # have raised ValidationError: any other exception fails the test by propagating.
