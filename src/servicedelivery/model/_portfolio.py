"""A portfolio: a consistent set of sites, services, orders, milestones, cases and invoices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import attrs

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.model._entities import Case, Invoice, Milestone, Order, Service, Site

__all__ = ["Portfolio"]

T = TypeVar("T")


# One typed converter per field, so that type checkers see what the constructor accepts.
def _tuple_of_sites(items: Iterable[Site]) -> tuple[Site, ...]:
    return tuple(items)


def _tuple_of_services(items: Iterable[Service]) -> tuple[Service, ...]:
    return tuple(items)


def _tuple_of_orders(items: Iterable[Order]) -> tuple[Order, ...]:
    return tuple(items)


def _tuple_of_milestones(items: Iterable[Milestone]) -> tuple[Milestone, ...]:
    return tuple(items)


def _tuple_of_cases(items: Iterable[Case]) -> tuple[Case, ...]:
    return tuple(items)


def _tuple_of_invoices(items: Iterable[Invoice]) -> tuple[Invoice, ...]:
    return tuple(items)


@attrs.frozen
class Portfolio:
    """Entities that refer to each other by id, checked to be consistent.

    Ids are unique within each kind, every reference resolves, an order's services are at the
    order's site, and no two milestones of an order share a sequence number.

    Attributes:
        sites: The sites.
        services: The services, each at one of the sites.
        orders: The orders, each for one of the sites and some of its services.
        milestones: The milestones, each of one of the orders.
        cases: The cases, each referring to sites, services or orders of the portfolio, if any.
        invoices: The invoices, each referring to orders or services of the portfolio, if any.
    """

    sites: tuple[Site, ...] = attrs.field(default=(), converter=_tuple_of_sites)
    services: tuple[Service, ...] = attrs.field(default=(), converter=_tuple_of_services)
    orders: tuple[Order, ...] = attrs.field(default=(), converter=_tuple_of_orders)
    milestones: tuple[Milestone, ...] = attrs.field(default=(), converter=_tuple_of_milestones)
    cases: tuple[Case, ...] = attrs.field(default=(), converter=_tuple_of_cases)
    invoices: tuple[Invoice, ...] = attrs.field(default=(), converter=_tuple_of_invoices)

    def __attrs_post_init__(self) -> None:
        errors = list(self._problems())
        if errors:
            raise ValidationError(errors, title="inconsistent portfolio")

    def _problems(self) -> Iterable[FieldError]:
        kinds: Sequence[tuple[str, Sequence[Any], type]] = (
            ("sites", self.sites, Site),
            ("services", self.services, Service),
            ("orders", self.orders, Order),
            ("milestones", self.milestones, Milestone),
            ("cases", self.cases, Case),
            ("invoices", self.invoices, Invoice),
        )
        typed_ok = True
        for name, items, kind in kinds:
            for index, item in enumerate(items):
                if not isinstance(item, kind):
                    typed_ok = False
                    yield FieldError(f"{name}[{index}]", item, f"a {kind.__name__}")
        if not typed_ok:
            return
        for name, items, _ in kinds:
            yield from _unique_ids(name, items)
        sites = {site.id for site in self.sites}
        services = {service.id: service for service in self.services}
        orders = {order.id for order in self.orders}
        for index, service in enumerate(self.services):
            yield from _resolves(f"services[{index}].site_id", service.site_id, sites, "site")
        for index, order in enumerate(self.orders):
            yield from _resolves(f"orders[{index}].site_id", order.site_id, sites, "site")
            for position, service_id in enumerate(order.service_ids):
                path = f"orders[{index}].service_ids[{position}]"
                ordered = services.get(service_id)
                if ordered is None:
                    yield FieldError(path, service_id, "the id of a service in the portfolio")
                elif ordered.site_id != order.site_id:
                    yield FieldError(
                        path, service_id, f"a service at the order's site {order.site_id!r}"
                    )
        sequences: dict[tuple[str, int], int] = {}
        for index, milestone in enumerate(self.milestones):
            yield from _resolves(
                f"milestones[{index}].order_id", milestone.order_id, orders, "order"
            )
            key = (milestone.order_id, milestone.sequence)
            if key in sequences:
                yield FieldError(
                    f"milestones[{index}].sequence",
                    milestone.sequence,
                    f"a sequence not already used in the order by milestones[{sequences[key]}]",
                )
            sequences.setdefault(key, index)
        for index, case in enumerate(self.cases):
            yield from _resolves(f"cases[{index}].site_id", case.site_id, sites, "site")
            yield from _resolves(f"cases[{index}].service_id", case.service_id, services, "service")
            yield from _resolves(f"cases[{index}].order_id", case.order_id, orders, "order")
        for index, invoice in enumerate(self.invoices):
            yield from _resolves(f"invoices[{index}].order_id", invoice.order_id, orders, "order")
            yield from _resolves(
                f"invoices[{index}].service_id", invoice.service_id, services, "service"
            )

    def site(self, site_id: str) -> Site:
        """The site with this id.

        Raises:
            ValidationError: No site has this id.
        """
        return _find("site_id", site_id, self.sites)

    def order(self, order_id: str) -> Order:
        """The order with this id.

        Raises:
            ValidationError: No order has this id.
        """
        return _find("order_id", order_id, self.orders)

    def milestones_of(self, order_id: str) -> tuple[Milestone, ...]:
        """The milestones of an order, by sequence."""
        return tuple(
            sorted((m for m in self.milestones if m.order_id == order_id), key=lambda m: m.sequence)
        )


def _unique_ids(name: str, items: Sequence[Any]) -> Iterable[FieldError]:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.id in seen:
            yield FieldError(
                f"{name}[{index}].id", item.id, f"an id not already used by {name}[{seen[item.id]}]"
            )
        seen.setdefault(item.id, index)


def _resolves(path: str, ref: str | None, known: Iterable[str], kind: str) -> Iterable[FieldError]:
    if ref is not None and ref not in known:
        yield FieldError(path, ref, f"the id of a {kind} in the portfolio")


def _find(path: str, wanted: str, items: Sequence[T]) -> T:
    for item in items:
        if getattr(item, "id", None) == wanted:
            return item
    raise ValidationError.single(path, wanted, "the id of an entity in the portfolio")
