"""A seeded, realistic synthetic portfolio: the same seed always gives the same portfolio.

Sites spread over eight regions and their time zones, services from twenty providers, orders of a few
services each, and milestones that follow the usual steps of delivering connectivity. Older orders are
finished; recent ones are in flight, some blocked, with a mix of reasons and owners like the one seen
in delivery teams (customer-side blocks are the most common, then provider-side).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pendulum

from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    Milestone,
    MilestoneState,
    Money,
    Order,
    Portfolio,
    Priority,
    Service,
    Site,
    StandardReason,
)

__all__ = ["PROVIDERS", "REGIONS", "STEPS", "synthetic_portfolio"]

REGIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "uk_ireland": (("Europe/London", "GB"), ("Europe/Dublin", "IE")),
    "france": (("Europe/Paris", "FR"),),
    "dach": (("Europe/Berlin", "DE"), ("Europe/Zurich", "CH"), ("Europe/Vienna", "AT")),
    "nordics": (("Europe/Stockholm", "SE"), ("Europe/Oslo", "NO"), ("Europe/Helsinki", "FI")),
    "iberia": (("Europe/Madrid", "ES"), ("Europe/Lisbon", "PT")),
    "north_america": (
        ("America/New_York", "US"),
        ("America/Chicago", "US"),
        ("America/Los_Angeles", "US"),
        ("America/Toronto", "CA"),
    ),
    "latam": (("America/Sao_Paulo", "BR"), ("America/Mexico_City", "MX")),
    "apac": (
        ("Asia/Singapore", "SG"),
        ("Asia/Tokyo", "JP"),
        ("Australia/Sydney", "AU"),
        ("Asia/Kolkata", "IN"),
    ),
}
"""Region name to the (time zone, country) pairs its sites are in."""

PROVIDERS: tuple[str, ...] = (
    "aurora_networks", "bluefin_telecom", "cobalt_fibre", "delta_carrier", "ember_connect",
    "fjord_net", "granite_telecom", "harbour_link", "iris_broadband", "juniper_access",
    "kestrel_fibre", "lumen_ridge", "meridian_net", "nimbus_access", "orbit_carrier",
    "pioneer_fibre", "quartz_telecom", "riverbed_link", "summit_access", "tidal_networks",
)  # fmt: skip
"""Twenty fictional providers; the first few carry most of the volume, as in real portfolios."""

STEPS: tuple[str, ...] = (
    "order_validation",
    "site_survey",
    "provider_order",
    "installation",
    "configuration",
    "acceptance_test",
    "handover",
)
"""The steps of delivering a connectivity service, in order."""

_SERVICE_KINDS = ("internet_access", "mpls", "sd_wan", "voice", "managed_lan", "mobile_backup")

# Which reasons block which steps, and how often; customer-side blocks dominate early steps,
# provider-side blocks the provider order and installation, NOC blocks configuration and tests.
_STEP_REASONS: dict[str, tuple[tuple[StandardReason, float], ...]] = {
    "order_validation": (
        (StandardReason.AWAITING_CUSTOMER_INFORMATION, 0.6),
        (StandardReason.AWAITING_INTERNAL_APPROVAL, 0.4),
    ),
    "site_survey": (
        (StandardReason.SITE_ACCESS, 0.6),
        (StandardReason.CUSTOMER_READINESS, 0.3),
        (StandardReason.AWAITING_CUSTOMER_INFORMATION, 0.1),
    ),
    "provider_order": (
        (StandardReason.PROVIDER_CAPACITY, 0.4),
        (StandardReason.PERMITS_AND_WAYLEAVES, 0.3),
        (StandardReason.AWAITING_PROVIDER, 0.2),
        (StandardReason.CUSTOMER_APPROVAL, 0.1),
    ),
    "installation": (
        (StandardReason.PROVIDER_INSTALLATION, 0.35),
        (StandardReason.SITE_ACCESS, 0.3),
        (StandardReason.HARDWARE_DELIVERY, 0.2),
        (StandardReason.CUSTOMER_READINESS, 0.15),
    ),
    "configuration": (
        (StandardReason.NOC_CONFIGURATION, 0.5),
        (StandardReason.CHANGE_WINDOW, 0.3),
        (StandardReason.CUSTOMER_EQUIPMENT, 0.2),
    ),
    "acceptance_test": (
        (StandardReason.TEST_FAILURE, 0.5),
        (StandardReason.PROVIDER_FAULT, 0.3),
        (StandardReason.CUSTOMER_APPROVAL, 0.2),
    ),
    "handover": (
        (StandardReason.CUSTOMER_APPROVAL, 0.7),
        (StandardReason.AWAITING_SERVICE_DESK, 0.3),
    ),
}


def _weights(count: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    # Zipf-like volumes: a few providers and regions carry most of the work.
    raw: npt.NDArray[np.float64] = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** 0.8
    rng.shuffle(raw)
    weights: npt.NDArray[np.float64] = raw / raw.sum()
    return weights


def synthetic_portfolio(
    *,
    orders: int = 2_000,
    seed: int = 7,
    now: pendulum.DateTime | None = None,
) -> Portfolio:
    """Build a seeded synthetic portfolio.

    Args:
        orders: How many orders.
        seed: The seed; the same seed and sizes always give the same portfolio.
        now: The instant the portfolio is seen at; orders were placed over the year before it.
            Defaults to 2026-01-05 09:00 UTC, so that the default portfolio never changes.

    Returns:
        A consistent portfolio (it passes every check of :class:`~servicedelivery.model.Portfolio`).
    """
    rng = np.random.default_rng(seed)
    now = now or pendulum.datetime(2026, 1, 5, 9, tz="UTC")
    region_names = list(REGIONS)
    region_weights = _weights(len(region_names), rng)
    provider_weights = _weights(len(PROVIDERS), rng)

    site_count = max(1, orders // 3)
    sites: list[Site] = []
    for index in range(site_count):
        region = region_names[rng.choice(len(region_names), p=region_weights)]
        zone, country = REGIONS[region][rng.integers(len(REGIONS[region]))]
        sites.append(
            Site(
                id=f"S{index + 1:05d}",
                name=f"{zone.split('/')[-1].replace('_', ' ')} site {index + 1}",
                region=region,
                timezone=zone,
                country=country,
            )
        )

    services: list[Service] = []
    order_list: list[Order] = []
    milestones: list[Milestone] = []
    priorities = list(Priority)
    for index in range(orders):
        site = sites[rng.integers(site_count)]
        provider = PROVIDERS[rng.choice(len(PROVIDERS), p=provider_weights)]
        order_id = f"O{index + 1:06d}"
        service_ids = []
        for position in range(int(rng.integers(1, 4))):
            service_id = f"{order_id}-SV{position + 1}"
            services.append(
                Service(
                    id=service_id,
                    site_id=site.id,
                    kind=_SERVICE_KINDS[rng.integers(len(_SERVICE_KINDS))],
                    provider=provider,
                )
            )
            service_ids.append(service_id)
        age_days = float(rng.uniform(0, 365))
        requested = now.subtract(seconds=int(age_days * 86_400))
        order_list.append(
            Order(
                id=order_id,
                customer=f"customer_{int(rng.integers(1, 120)):03d}",
                site_id=site.id,
                service_ids=tuple(service_ids),
                requested_at=requested.in_timezone(site.timezone),
                target_at=requested.add(days=int(rng.integers(30, 90))).in_timezone(site.timezone),
                priority=priorities[rng.choice(4, p=[0.05, 0.2, 0.55, 0.2])],
                value=Money(amount=Decimal(int(rng.integers(800, 60_000))), currency="EUR"),
            )
        )
        milestones.extend(_milestones(order_id, age_days, requested, rng))
    return Portfolio(sites=sites, services=services, orders=order_list, milestones=milestones)


def _milestones(
    order_id: str, age_days: float, requested: pendulum.DateTime, rng: np.random.Generator
) -> Sequence[Milestone]:
    # How far delivery has got grows with the order's age at the order's own pace (about 60 days
    # is typical); the target dates follow the same pace.
    pace = float(rng.uniform(40, 110))
    progress = min(len(STEPS), int(len(STEPS) * age_days / pace))
    cancelled = rng.random() < 0.02
    result = []
    for sequence, step in enumerate(STEPS):
        # The plan agreed for the order spreads its pace over the steps, give or take.
        target = requested.add(
            days=int(pace * (sequence + 1) / len(STEPS) * rng.uniform(0.85, 1.2))
        )
        owner = reason = None
        if cancelled:
            state = MilestoneState.CANCELLED if sequence >= progress else MilestoneState.DONE
        elif sequence < progress:
            state = MilestoneState.DONE
        elif sequence == progress:
            if rng.random() < 0.38:
                state = MilestoneState.BLOCKED
                choices = _STEP_REASONS[step]
                code = choices[rng.choice(len(choices), p=[w for _, w in choices])][0]
                reason = code.value
                owner = DEFAULT_TAXONOMY.require(reason).owner
            else:
                state = MilestoneState.IN_PROGRESS
        else:
            state = MilestoneState.PLANNED
        result.append(
            Milestone(
                id=f"{order_id}-M{sequence + 1}",
                order_id=order_id,
                step=step,
                sequence=sequence,
                state=state,
                owner=owner,
                reason=reason,
                target_at=target,
            )
        )
    return result
