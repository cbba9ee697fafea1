"""Events of sites, services, orders, cases and invoices.

An event that creates or restates an entity carries the whole entity (``OrderPlaced(order=...)``), so
the entity as of any event is the last one its stream carried, changed by the events since. The
entity's id must be the stream's entity id.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from servicedelivery.eventlog._events import Event
from servicedelivery.eventlog._streams import StreamKind
from servicedelivery.model import Case, Invoice, Order, Service, Site
from servicedelivery.model._validation import checked, instance_of, label, optional, text

__all__ = [
    "CaseOpened",
    "CaseReopened",
    "CaseResolved",
    "CaseUpdated",
    "InvoiceApproved",
    "InvoiceDisputed",
    "InvoiceReceived",
    "OrderAmended",
    "OrderCancelled",
    "OrderPlaced",
    "ServiceRegistered",
    "ServiceUpdated",
    "SiteRegistered",
    "SiteUpdated",
]


@attrs.frozen(kw_only=True)
class SiteRegistered(Event):
    """A site became known. Opens its ``site:<id>`` stream.

    Attributes:
        site: The site.
    """

    stream_kind: ClassVar[str] = StreamKind.SITE
    opens_stream: ClassVar[bool | None] = True

    site: Site = checked(instance_of(Site))

    def entity_id(self) -> str:
        """The site's id."""
        return self.site.id


@attrs.frozen(kw_only=True)
class SiteUpdated(Event):
    """A site's details changed.

    Attributes:
        site: The site as it is now.
    """

    stream_kind: ClassVar[str] = StreamKind.SITE
    opens_stream: ClassVar[bool | None] = False

    site: Site = checked(instance_of(Site))

    def entity_id(self) -> str:
        """The site's id."""
        return self.site.id


@attrs.frozen(kw_only=True)
class ServiceRegistered(Event):
    """A service became known. Opens its ``service:<id>`` stream.

    Attributes:
        service: The service.
    """

    stream_kind: ClassVar[str] = StreamKind.SERVICE
    opens_stream: ClassVar[bool | None] = True

    service: Service = checked(instance_of(Service))

    def entity_id(self) -> str:
        """The service's id."""
        return self.service.id


@attrs.frozen(kw_only=True)
class ServiceUpdated(Event):
    """A service's details changed (a new provider, say).

    Attributes:
        service: The service as it is now.
    """

    stream_kind: ClassVar[str] = StreamKind.SERVICE
    opens_stream: ClassVar[bool | None] = False

    service: Service = checked(instance_of(Service))

    def entity_id(self) -> str:
        """The service's id."""
        return self.service.id


@attrs.frozen(kw_only=True)
class OrderPlaced(Event):
    """A customer placed an order. Opens its ``order:<id>`` stream.

    Attributes:
        order: The order.
    """

    stream_kind: ClassVar[str] = StreamKind.ORDER
    opens_stream: ClassVar[bool | None] = True

    order: Order = checked(instance_of(Order))

    def entity_id(self) -> str:
        """The order's id."""
        return self.order.id


@attrs.frozen(kw_only=True)
class OrderAmended(Event):
    """An order changed: services, target date, priority or value.

    Attributes:
        order: The order as amended.
        note: A comment for people, such as who asked for the change.
    """

    stream_kind: ClassVar[str] = StreamKind.ORDER
    opens_stream: ClassVar[bool | None] = False

    order: Order = checked(instance_of(Order))
    note: str = checked(text, default="")

    def entity_id(self) -> str:
        """The order's id."""
        return self.order.id


@attrs.frozen(kw_only=True)
class OrderCancelled(Event):
    """The customer or the provider cancelled the order.

    Attributes:
        note: A comment for people, such as why.
    """

    stream_kind: ClassVar[str] = StreamKind.ORDER
    opens_stream: ClassVar[bool | None] = False

    note: str = checked(text, default="")


@attrs.frozen(kw_only=True)
class CaseOpened(Event):
    """An incident, problem, change or request was opened. Opens its ``case:<id>`` stream.

    Attributes:
        case: The case.
    """

    stream_kind: ClassVar[str] = StreamKind.CASE
    opens_stream: ClassVar[bool | None] = True

    case: Case = checked(instance_of(Case))

    def entity_id(self) -> str:
        """The case's id."""
        return self.case.id


@attrs.frozen(kw_only=True)
class CaseUpdated(Event):
    """A case's details changed (priority, the site or service it concerns, ...).

    Attributes:
        case: The case as it is now.
    """

    stream_kind: ClassVar[str] = StreamKind.CASE
    opens_stream: ClassVar[bool | None] = False

    case: Case = checked(instance_of(Case))

    def entity_id(self) -> str:
        """The case's id."""
        return self.case.id


@attrs.frozen(kw_only=True)
class CaseResolved(Event):
    """The case was resolved; it was resolved when the event occurred.

    Attributes:
        root_cause: The root cause found, if any.
        note: A comment for people.
    """

    stream_kind: ClassVar[str] = StreamKind.CASE
    opens_stream: ClassVar[bool | None] = False

    root_cause: str | None = checked(optional(text), default=None)
    note: str = checked(text, default="")


@attrs.frozen(kw_only=True)
class CaseReopened(Event):
    """A resolved case was reopened.

    Attributes:
        note: A comment for people, such as what recurred.
    """

    stream_kind: ClassVar[str] = StreamKind.CASE
    opens_stream: ClassVar[bool | None] = False

    note: str = checked(text, default="")


@attrs.frozen(kw_only=True)
class InvoiceReceived(Event):
    """A provider's invoice arrived. Opens its ``invoice:<id>`` stream.

    Attributes:
        invoice: The invoice.
    """

    stream_kind: ClassVar[str] = StreamKind.INVOICE
    opens_stream: ClassVar[bool | None] = True

    invoice: Invoice = checked(instance_of(Invoice))

    def entity_id(self) -> str:
        """The invoice's id."""
        return self.invoice.id


@attrs.frozen(kw_only=True)
class InvoiceDisputed(Event):
    """The invoice was disputed with the provider.

    Attributes:
        reason: Why, for people (billing before delivery, wrong amount, ...).
    """

    stream_kind: ClassVar[str] = StreamKind.INVOICE
    opens_stream: ClassVar[bool | None] = False

    reason: str = checked(label)


@attrs.frozen(kw_only=True)
class InvoiceApproved(Event):
    """The invoice was approved for payment.

    Attributes:
        note: A comment for people.
    """

    stream_kind: ClassVar[str] = StreamKind.INVOICE
    opens_stream: ClassVar[bool | None] = False

    note: str = checked(text, default="")
