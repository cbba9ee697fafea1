from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.errors import ValidationError
from servicedelivery.model import (
    Case,
    CaseKind,
    Invoice,
    Milestone,
    MilestoneState,
    Money,
    Order,
    Owner,
    Period,
    Priority,
    Service,
    Site,
)
from servicedelivery.testing import aware_datetimes, milestones

PARIS = pendulum.datetime(2024, 3, 1, 9, tz="Europe/Paris")


def paths(error: ValidationError) -> list[str]:
    return [e.path for e in error.errors]


def test_site_accepts_valid_values() -> None:
    site = Site(id="S1", name="Lyon DC", region="emea", timezone="Europe/Paris", country="FR")
    assert site.timezone == "Europe/Paris"


@pytest.mark.parametrize("name", ["Europe", "a" * 300, "Europe/../UTC"])
def test_names_that_are_no_time_zone_file_are_bad_time_zones(name: str) -> None:
    """A directory of the zone database, or a name too long for a file, is reported, not raised."""
    with pytest.raises(ValidationError, match="timezone: expected an IANA time zone name"):
        Site(id="S1", name="n", region="emea", timezone=name, country="FR")


def test_site_reports_every_bad_field_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        Site(id=" S1", name="", region="emea", timezone="Mars/Olympus", country="fr")
    assert paths(info.value) == ["id", "name", "timezone", "country"]
    message = str(info.value)
    assert "timezone: expected an IANA time zone name" in message
    assert "got 'Mars/Olympus'" in message
    assert "country: expected an ISO 3166-1 alpha-2 country code" in message


def test_entities_are_frozen() -> None:
    site = Site(id="S1", name="n", region="r", timezone="UTC", country="FR")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        site.name = "other"  # type: ignore[misc]


def test_evolve_checks_again() -> None:
    service = Service(id="SV1", site_id="S1", kind="sd_wan", provider="acme")
    with pytest.raises(ValidationError) as info:
        attrs.evolve(service, kind="SD-WAN")
    assert paths(info.value) == ["kind"]


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        Order(
            id="O1",
            customer="c",
            site_id="S1",
            service_ids=("SV1",),
            requested_at=dt.datetime(2024, 1, 1, 9),  # type: ignore[arg-type]
        )
    assert paths(info.value) == ["requested_at"]
    assert "timezone-aware" in str(info.value)


def test_stdlib_aware_datetime_becomes_pendulum() -> None:
    order = Order(
        id="O1",
        customer="c",
        site_id="S1",
        service_ids=["SV1"],  # type: ignore[arg-type]
        requested_at=dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),  # type: ignore[arg-type]
    )
    assert isinstance(order.requested_at, pendulum.DateTime)
    assert order.service_ids == ("SV1",)


@given(aware_datetimes())
def test_instants_keep_their_instant_and_local_offset(when: pendulum.DateTime) -> None:
    milestone = Milestone(id="M", order_id="O", step="install", target_at=when)
    assert milestone.target_at is not None
    # Same instant and same offset. (Not ``==``: Python defines equality between zones as False
    # when either side is a wall time in a DST fold.)
    assert milestone.target_at.timestamp() == when.timestamp()
    assert milestone.target_at.utcoffset() == when.utcoffset()
    assert isinstance(milestone.target_at.tzinfo, pendulum.FixedTimezone)


def test_a_wall_time_in_a_dst_fold_keeps_the_offset_it_was_given() -> None:
    first = dt.datetime(2024, 10, 27, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    second = dt.datetime(2024, 10, 27, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    a = Milestone(id="M", order_id="O", step="install", target_at=first)  # type: ignore[arg-type]
    b = Milestone(id="M", order_id="O", step="install", target_at=second)  # type: ignore[arg-type]
    assert a != b
    assert a.target_at is not None
    assert b.target_at is not None
    assert (b.target_at - a.target_at).in_seconds() == 3600


def test_order_target_not_before_request() -> None:
    with pytest.raises(ValidationError) as info:
        Order(
            id="O1",
            customer="c",
            site_id="S1",
            service_ids=("SV1",),
            requested_at=PARIS,
            target_at=PARIS.subtract(seconds=1),
        )
    assert paths(info.value) == ["target_at"]
    assert "not before requested_at (2024-03-01T09:00:00+01:00)" in str(info.value)


def test_order_needs_distinct_services() -> None:
    with pytest.raises(ValidationError) as info:
        Order(id="O1", customer="c", site_id="S1", service_ids=("A", "A"), requested_at=PARIS)
    assert paths(info.value) == ["service_ids"]
    with pytest.raises(ValidationError):
        Order(id="O1", customer="c", site_id="S1", service_ids=(), requested_at=PARIS)


def test_blocked_milestone_needs_reason_and_owner() -> None:
    with pytest.raises(ValidationError) as info:
        Milestone(id="M1", order_id="O1", step="install", state=MilestoneState.BLOCKED)
    assert paths(info.value) == ["owner", "reason"]
    blocked = Milestone(
        id="M1",
        order_id="O1",
        step="install",
        state=MilestoneState.BLOCKED,
        owner=Owner.CUSTOMER,
        reason="site_access",
    )
    assert blocked.state_name == "blocked"


@pytest.mark.parametrize("state", [s for s in MilestoneState if s is not MilestoneState.BLOCKED])
def test_unblocked_milestone_carries_no_reason_or_owner(state: MilestoneState) -> None:
    with pytest.raises(ValidationError) as info:
        Milestone(id="M1", order_id="O1", step="install", state=state, owner=Owner.NOC, reason="x")
    assert paths(info.value) == ["owner", "reason"]


def test_states_must_be_enum_members_not_strings() -> None:
    with pytest.raises(ValidationError) as info:
        Milestone(id="M1", order_id="O1", step="install", state="planned")  # type: ignore[arg-type]
    assert paths(info.value) == ["state"]
    assert "a MilestoneState (one of 'planned'" in str(info.value)


def test_custom_status_name_is_kept() -> None:
    milestone = Milestone(
        id="M1",
        order_id="O1",
        step="acceptance",
        state=MilestoneState.IN_PROGRESS,
        status="awaiting_acceptance",
    )
    assert milestone.state_name == "awaiting_acceptance"


def test_case_resolution_not_before_opening() -> None:
    with pytest.raises(ValidationError) as info:
        Case(
            id="C1",
            kind=CaseKind.INCIDENT,
            priority=Priority.HIGH,
            opened_at=PARIS,
            resolved_at=PARIS.subtract(minutes=1),
        )
    assert paths(info.value) == ["resolved_at"]


def test_money_needs_finite_decimal_and_iso_currency() -> None:
    assert Money(amount=Decimal("-12.50"), currency="EUR").amount == Decimal("-12.50")
    with pytest.raises(ValidationError) as info:
        Money(amount=12.5, currency="EURO")  # type: ignore[arg-type]
    assert paths(info.value) == ["amount", "currency"]
    with pytest.raises(ValidationError):
        Money(amount=Decimal("NaN"), currency="EUR")


def test_period_is_half_open_and_ordered() -> None:
    period = Period(start=pendulum.Date(2024, 2, 1), end=pendulum.Date(2024, 3, 1))
    assert period.days == 29
    with pytest.raises(ValidationError) as info:
        Period(start=pendulum.Date(2024, 2, 1), end=pendulum.Date(2024, 2, 1))
    assert paths(info.value) == ["end"]


def test_period_accepts_stdlib_dates_and_rejects_datetimes() -> None:
    period = Period(start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 2))  # type: ignore[arg-type]
    assert isinstance(period.start, pendulum.Date)
    with pytest.raises(ValidationError):
        Period(start=PARIS, end=PARIS.add(days=1))


def test_invoice_fields() -> None:
    invoice = Invoice(
        id="I1",
        provider="acme",
        amount=Money(amount=Decimal("99.99"), currency="GBP"),
        period=Period(start=pendulum.Date(2024, 1, 1), end=pendulum.Date(2024, 2, 1)),
        issued_on=pendulum.Date(2024, 2, 3),
        service_id="SV1",
    )
    assert invoice.order_id is None
    with pytest.raises(ValidationError) as info:
        attrs.evolve(invoice, amount=Decimal("1"))
    assert paths(info.value) == ["amount"]


@given(milestones())
def test_generated_milestones_respect_the_blocked_invariant(milestone: Milestone) -> None:
    blocked = milestone.state is MilestoneState.BLOCKED
    assert (milestone.owner is not None) == blocked
    assert (milestone.reason is not None) == blocked


def test_priority_rank_orders_by_urgency() -> None:
    assert sorted(Priority, key=lambda p: p.rank) == list(Priority)
    assert Priority.CRITICAL.rank == 1


@given(st.sampled_from(MilestoneState))
def test_open_states(state: MilestoneState) -> None:
    assert state.is_open == (state not in (MilestoneState.DONE, MilestoneState.CANCELLED))
