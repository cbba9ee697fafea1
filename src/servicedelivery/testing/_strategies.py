"""Hypothesis strategies that build valid entities and consistent portfolios.

Host applications use them in their own property tests; the library's tests use the same ones.
Everything generated passes the entities' checks; the strategies never filter heavily, so they stay
fast under the thorough profile too.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pendulum
from hypothesis import strategies as st

from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    Case,
    CaseKind,
    Invoice,
    Milestone,
    MilestoneState,
    Money,
    Order,
    Owner,
    Period,
    Portfolio,
    Priority,
    Service,
    Site,
    Taxonomy,
)

__all__ = [
    "TIMEZONES",
    "aware_datetimes",
    "cases",
    "identifiers",
    "invoices",
    "milestones",
    "money",
    "orders",
    "periods",
    "portfolios",
    "services",
    "sites",
    "timezones",
]

TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Africa/Casablanca",
)
"""Zones with the awkward cases: DST in both hemispheres, 30- and 45-minute offsets, 30-minute DST."""

_MIN = dt.datetime(2000, 1, 1)
_MAX = dt.datetime(2035, 12, 31)
_SLUG_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"


def identifiers() -> st.SearchStrategy[str]:
    """Ids: short non-empty strings without surrounding whitespace, sometimes beyond ASCII."""
    return st.text(min_size=1, max_size=16).map(str.strip).filter(bool)


def _slugs() -> st.SearchStrategy[str]:
    return st.builds(
        lambda head, tail: head + tail,
        st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
        st.text(alphabet=_SLUG_ALPHABET, max_size=12),
    )


def timezones() -> st.SearchStrategy[str]:
    """IANA zone names from :data:`TIMEZONES`."""
    return st.sampled_from(TIMEZONES)


def aware_datetimes(
    *,
    min_value: dt.datetime = _MIN,
    max_value: dt.datetime = _MAX,
    timezone: str | None = None,
) -> st.SearchStrategy[pendulum.DateTime]:
    """Timezone-aware ``pendulum.DateTime`` values that exist on the local clock.

    Args:
        min_value: The earliest local wall time (naive).
        max_value: The latest local wall time (naive).
        timezone: Generate in this zone; a zone from :data:`TIMEZONES` by default.
    """
    zones = st.just(timezone) if timezone is not None else timezones()
    return st.datetimes(
        min_value=min_value,
        max_value=max_value,
        timezones=zones.map(zoneinfo.ZoneInfo),
        allow_imaginary=False,
    ).map(pendulum.instance)


def _dates() -> st.SearchStrategy[pendulum.Date]:
    return st.dates(min_value=_MIN.date(), max_value=_MAX.date()).map(
        lambda d: pendulum.Date(d.year, d.month, d.day)
    )


def money(*, currency: str | None = None) -> st.SearchStrategy[Money]:
    """Money amounts with at most two decimals, in a few currencies."""
    currencies = st.just(currency) if currency else st.sampled_from(("EUR", "USD", "GBP", "JPY"))
    amounts = st.integers(min_value=-(10**9), max_value=10**9).map(lambda c: Decimal(c).scaleb(-2))
    return st.builds(Money, amount=amounts, currency=currencies)


def periods() -> st.SearchStrategy[Period]:
    """Billing periods of 1 to 92 days."""
    return st.builds(
        lambda start, days: Period(start=start, end=start.add(days=days)),
        _dates(),
        st.integers(min_value=1, max_value=92),
    )


def sites(*, ids: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Site]:
    """Sites in regions and zones drawn from small pools, so groupings repeat."""
    return st.builds(
        Site,
        id=ids if ids is not None else identifiers(),
        name=identifiers(),
        region=st.sampled_from(("emea", "amer", "apac", "nordics", "iberia", "benelux")),
        timezone=timezones(),
        country=st.sampled_from(("FR", "GB", "US", "BR", "IN", "JP", "AU", "NZ", "MA", "DE")),
    )


def services(
    *, site_ids: st.SearchStrategy[str] | None = None, ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[Service]:
    """Services of common kinds from a small pool of providers."""
    return st.builds(
        Service,
        id=ids if ids is not None else identifiers(),
        site_id=site_ids if site_ids is not None else identifiers(),
        kind=st.sampled_from(("internet_access", "mpls", "sd_wan", "voice", "managed_lan")),
        provider=st.sampled_from(("provider_a", "provider_b", "provider_c", "provider_d")),
    )


@st.composite
def orders(
    draw: st.DrawFn,
    *,
    ids: st.SearchStrategy[str] | None = None,
    site_id: str | None = None,
    service_ids: tuple[str, ...] | None = None,
) -> Order:
    """Orders whose target, when set, is not before the request."""
    requested = draw(aware_datetimes())
    target = draw(st.none() | st.integers(min_value=0, max_value=400 * 86_400))
    return Order(
        id=draw(ids if ids is not None else identifiers()),
        customer=draw(identifiers()),
        site_id=site_id if site_id is not None else draw(identifiers()),
        service_ids=service_ids
        if service_ids is not None
        else tuple(draw(st.lists(identifiers(), min_size=1, max_size=4, unique=True))),
        requested_at=requested,
        target_at=None if target is None else requested.add(seconds=target),
        priority=draw(st.sampled_from(Priority)),
        value=draw(st.none() | money()),
    )


@st.composite
def milestones(
    draw: st.DrawFn,
    *,
    ids: st.SearchStrategy[str] | None = None,
    order_id: str | None = None,
    sequence: int | None = None,
    states: st.SearchStrategy[MilestoneState] | None = None,
    taxonomy: Taxonomy = DEFAULT_TAXONOMY,
) -> Milestone:
    """Milestones in any canonical state; blocked ones carry a reason of ``taxonomy`` and an owner.

    The owner is the reason's default owner most of the time, and sometimes an explicit override.
    """
    state = draw(states if states is not None else st.sampled_from(MilestoneState))
    owner: Owner | None = None
    reason: str | None = None
    if state is MilestoneState.BLOCKED:
        chosen = draw(st.sampled_from(taxonomy.reasons))
        reason = chosen.code
        owner = draw(st.just(chosen.owner) | st.sampled_from(Owner))
    return Milestone(
        id=draw(ids if ids is not None else identifiers()),
        order_id=order_id if order_id is not None else draw(identifiers()),
        step=draw(
            st.sampled_from(("site_survey", "provider_order", "installation", "configuration"))
            | _slugs()
        ),
        sequence=sequence if sequence is not None else draw(st.integers(0, 20)),
        state=state,
        owner=owner,
        reason=reason,
        target_at=draw(st.none() | aware_datetimes()),
        status=None,
    )


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    ids: st.SearchStrategy[str] | None = None,
    site_ids: st.SearchStrategy[str | None] | None = None,
    service_ids: st.SearchStrategy[str | None] | None = None,
    order_ids: st.SearchStrategy[str | None] | None = None,
) -> Case:
    """Cases of every kind; resolved ones are resolved after they were opened."""
    opened = draw(aware_datetimes())
    resolved_after = draw(st.none() | st.integers(min_value=0, max_value=90 * 86_400))
    maybe_id = st.none() | identifiers()
    return Case(
        id=draw(ids if ids is not None else identifiers()),
        kind=draw(st.sampled_from(CaseKind)),
        priority=draw(st.sampled_from(Priority)),
        opened_at=opened,
        resolved_at=None if resolved_after is None else opened.add(seconds=resolved_after),
        site_id=draw(site_ids if site_ids is not None else maybe_id),
        service_id=draw(service_ids if service_ids is not None else maybe_id),
        order_id=draw(order_ids if order_ids is not None else maybe_id),
        root_cause=draw(st.none() | st.text(max_size=40)),
    )


def invoices(
    *,
    ids: st.SearchStrategy[str] | None = None,
    order_ids: st.SearchStrategy[str | None] | None = None,
    service_ids: st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[Invoice]:
    """Invoices, credit notes included (negative amounts)."""
    maybe_id = st.none() | identifiers()
    return st.builds(
        Invoice,
        id=ids if ids is not None else identifiers(),
        provider=st.sampled_from(("provider_a", "provider_b", "provider_c")),
        amount=money(),
        period=periods(),
        issued_on=_dates(),
        order_id=order_ids if order_ids is not None else maybe_id,
        service_id=service_ids if service_ids is not None else maybe_id,
    )


@st.composite
def portfolios(
    draw: st.DrawFn,
    *,
    max_sites: int = 4,
    max_orders: int = 6,
    max_milestones_per_order: int = 5,
    taxonomy: Taxonomy = DEFAULT_TAXONOMY,
) -> Portfolio:
    """Consistent portfolios: every id unique, every reference resolves.

    Args:
        max_sites: At most this many sites (at least one).
        max_orders: At most this many orders.
        max_milestones_per_order: At most this many milestones per order.
        taxonomy: Blocked milestones take their reasons from it.
    """
    counter = iter(range(1_000_000))

    def fresh(prefix: str) -> str:
        return f"{prefix}-{next(counter)}"

    # Ids are numbered, not drawn, so that they are unique without filtering.
    site_list = [
        draw(sites(ids=st.just(fresh("S")))) for _ in range(draw(st.integers(1, max_sites)))
    ]
    service_list = [
        draw(services(ids=st.just(fresh("SV")), site_ids=st.just(site.id)))
        for site in site_list
        for _ in range(draw(st.integers(1, 3)))
    ]
    order_list: list[Order] = []
    milestone_list: list[Milestone] = []
    for _ in range(draw(st.integers(0, max_orders))):
        site = draw(st.sampled_from(site_list))
        at_site = [s.id for s in service_list if s.site_id == site.id]
        chosen = draw(st.lists(st.sampled_from(at_site), min_size=1, unique=True))
        order = draw(orders(ids=st.just(fresh("O")), site_id=site.id, service_ids=tuple(chosen)))
        order_list.append(order)
        milestone_list.extend(
            draw(
                milestones(
                    ids=st.just(fresh("M")), order_id=order.id, sequence=sequence, taxonomy=taxonomy
                )
            )
            for sequence in range(draw(st.integers(0, max_milestones_per_order)))
        )
    refs: dict[str, Any] = {
        "site": st.none() | st.sampled_from([s.id for s in site_list]),
        "service": st.none() | st.sampled_from([s.id for s in service_list]),
        "order": st.none()
        | (st.sampled_from([o.id for o in order_list]) if order_list else st.none()),
    }
    case_list = [
        draw(
            cases(
                ids=st.just(fresh("C")),
                site_ids=refs["site"],
                service_ids=refs["service"],
                order_ids=refs["order"],
            )
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    invoice_list = [
        draw(
            invoices(ids=st.just(fresh("I")), order_ids=refs["order"], service_ids=refs["service"])
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    return Portfolio(
        sites=site_list,
        services=service_list,
        orders=order_list,
        milestones=milestone_list,
        cases=case_list,
        invoices=invoice_list,
    )
