"""The entities of service delivery: sites, services, orders, milestones, cases and invoices.

Every entity is a frozen attrs class. Relations are by id, so an entity can be built, stored and sent
without the others; :class:`~servicedelivery.model.Portfolio` checks that the ids resolve. Change an
entity with ``attrs.evolve``, which checks the result again.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs
import pendulum

from servicedelivery.errors import FieldError
from servicedelivery.model._codes import COUNTRY_CODES, CURRENCY_CODES
from servicedelivery.model._enums import CaseKind, MilestoneState, Owner, Priority
from servicedelivery.model._validation import (
    Validated,
    aware_datetime,
    checked,
    date,
    finite_decimal,
    iana_timezone,
    identifier,
    instance_of,
    member_of,
    non_negative_int,
    optional,
    slug,
    text,
    to_date,
    to_instant,
    to_tuple,
    tuple_of,
)

__all__ = ["Case", "Invoice", "Milestone", "Money", "Order", "Period", "Service", "Site"]


def _country(value: object) -> str | None:
    if isinstance(value, str) and value in COUNTRY_CODES:
        return None
    return "an ISO 3166-1 alpha-2 country code such as 'FR'"


def _currency(value: object) -> str | None:
    if isinstance(value, str) and value in CURRENCY_CODES:
        return None
    return "an ISO 4217 currency code such as 'EUR'"


@attrs.frozen
class Site(Validated):
    """A place where services are delivered.

    Attributes:
        id: The site's id.
        name: Its name, for people.
        region: The region it belongs to, as the organization names regions.
        timezone: Its IANA time zone, which its business calendar and local dates use.
        country: ISO 3166-1 alpha-2 country code.
    """

    id: str = checked(identifier)
    name: str = checked(identifier)
    region: str = checked(identifier)
    timezone: str = checked(iana_timezone)
    country: str = checked(_country)


@attrs.frozen
class Service(Validated):
    """A service delivered at a site, such as an internet access or an SD-WAN edge.

    Attributes:
        id: The service's id.
        site_id: The site where it is delivered.
        kind: What kind of service it is, as a code (``"internet_access"``).
        provider: Who provides it (the provider's id or name).
    """

    id: str = checked(identifier)
    site_id: str = checked(identifier)
    kind: str = checked(slug)
    provider: str = checked(identifier)


@attrs.frozen
class Money(Validated):
    """An amount in a currency; amounts are never floats.

    Attributes:
        amount: The amount, a finite ``Decimal``.
        currency: ISO 4217 currency code.
    """

    amount: Decimal = checked(finite_decimal)
    currency: str = checked(_currency)


@attrs.frozen
class Period(Validated):
    """A span of calendar days, half-open: ``start`` is in it, ``end`` is the first day after it.

    Attributes:
        start: The first day.
        end: The day after the last day; after ``start``.
    """

    start: pendulum.Date = checked(date, converter=to_date)
    end: pendulum.Date = checked(date, converter=to_date)

    def _check_together(self) -> Iterable[FieldError]:
        if self.end <= self.start:
            yield FieldError("end", self.end, f"a day after start ({self.start.isoformat()})")

    @property
    def days(self) -> int:
        """How many days the period covers."""
        return (self.end - self.start).in_days()


@attrs.frozen
class Order(Validated):
    """A customer's order for one or more services at a site.

    Attributes:
        id: The order's id.
        customer: The customer's id or name.
        site_id: The site the order delivers to.
        service_ids: The services it delivers (at least one, no repeats).
        requested_at: When the customer placed it.
        target_at: When it was promised to be delivered; not before ``requested_at``.
        priority: Its business priority.
        value: Its contract value, if known.
    """

    id: str = checked(identifier)
    customer: str = checked(identifier)
    site_id: str = checked(identifier)
    service_ids: tuple[str, ...] = checked(tuple_of(identifier, unique=True), converter=to_tuple)
    requested_at: pendulum.DateTime = checked(aware_datetime, converter=to_instant)
    target_at: pendulum.DateTime | None = checked(
        optional(aware_datetime), converter=to_instant, default=None
    )
    priority: Priority = checked(member_of(Priority), default=Priority.MEDIUM)
    value: Money | None = checked(optional(instance_of(Money)), default=None)

    def _check_together(self) -> Iterable[FieldError]:
        if not self.service_ids:
            yield FieldError("service_ids", self.service_ids, "at least one service id")
        if self.target_at is not None and self.target_at < self.requested_at:
            yield FieldError(
                "target_at",
                self.target_at,
                f"an instant not before requested_at ({self.requested_at.isoformat()})",
            )


@attrs.frozen
class Milestone(Validated):
    """One step of delivering an order, such as a site survey or an installation.

    While blocked, a milestone carries the reason and the owner who must act; in any other state it
    carries neither. The lifecycle (:mod:`servicedelivery.lifecycle`) moves milestones between states.

    Attributes:
        id: The milestone's id.
        order_id: The order it belongs to.
        step: What step of delivery it is, as a code (``"site_survey"``).
        sequence: Its position among the order's milestones, from 0.
        state: Its canonical state.
        owner: Who must act, while blocked.
        reason: The blocked reason's code, while blocked.
        target_at: When it is due, if a date was agreed.
        status: The lifecycle's own state name when a custom lifecycle names states differently from
            the canonical ones (``"awaiting_acceptance"``); ``None`` when it is ``state``'s name.
    """

    id: str = checked(identifier)
    order_id: str = checked(identifier)
    step: str = checked(slug)
    sequence: int = checked(non_negative_int, default=0)
    state: MilestoneState = checked(member_of(MilestoneState), default=MilestoneState.PLANNED)
    owner: Owner | None = checked(optional(member_of(Owner)), default=None)
    reason: str | None = checked(optional(slug), default=None)
    target_at: pendulum.DateTime | None = checked(
        optional(aware_datetime), converter=to_instant, default=None
    )
    status: str | None = checked(optional(slug), default=None)

    def _check_together(self) -> Iterable[FieldError]:
        if self.state is MilestoneState.BLOCKED:
            if self.owner is None:
                yield FieldError("owner", None, "an Owner while the milestone is blocked")
            if self.reason is None:
                yield FieldError("reason", None, "a reason code while the milestone is blocked")
        else:
            if self.owner is not None:
                yield FieldError("owner", self.owner, f"None while the milestone is {self.state}")
            if self.reason is not None:
                yield FieldError("reason", self.reason, f"None while the milestone is {self.state}")

    @property
    def state_name(self) -> str:
        """The lifecycle state name: ``status`` if set, else the canonical state's name."""
        return self.status if self.status is not None else self.state.value


@attrs.frozen
class Case(Validated):
    """An incident, problem, change or request raised about delivered or in-flight services.

    Attributes:
        id: The case's id.
        kind: Incident, problem, change or request.
        priority: Its priority.
        opened_at: When it was opened.
        resolved_at: When it was resolved, not before ``opened_at``; ``None`` while open.
        site_id: The site it concerns, if any.
        service_id: The service it concerns, if any.
        order_id: The order it concerns, if any.
        root_cause: The root cause found, as free text.
    """

    id: str = checked(identifier)
    kind: CaseKind = checked(member_of(CaseKind))
    priority: Priority = checked(member_of(Priority))
    opened_at: pendulum.DateTime = checked(aware_datetime, converter=to_instant)
    resolved_at: pendulum.DateTime | None = checked(
        optional(aware_datetime), converter=to_instant, default=None
    )
    site_id: str | None = checked(optional(identifier), default=None)
    service_id: str | None = checked(optional(identifier), default=None)
    order_id: str | None = checked(optional(identifier), default=None)
    root_cause: str | None = checked(optional(text), default=None)

    def _check_together(self) -> Iterable[FieldError]:
        if self.resolved_at is not None and self.resolved_at < self.opened_at:
            yield FieldError(
                "resolved_at",
                self.resolved_at,
                f"an instant not before opened_at ({self.opened_at.isoformat()})",
            )


@attrs.frozen
class Invoice(Validated):
    """A provider's invoice for an order or a service over a billing period.

    Attributes:
        id: The invoice's id.
        provider: The provider who issued it.
        amount: The amount; negative for a credit note.
        period: The billing period it covers.
        issued_on: The day it was issued.
        order_id: The order it bills, if any.
        service_id: The service it bills, if any.
    """

    id: str = checked(identifier)
    provider: str = checked(identifier)
    amount: Money = checked(instance_of(Money))
    period: Period = checked(instance_of(Period))
    issued_on: pendulum.Date = checked(date, converter=to_date)
    order_id: str | None = checked(optional(identifier), default=None)
    service_id: str | None = checked(optional(identifier), default=None)
