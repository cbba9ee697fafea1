"""A seeded synthetic event trail: the events that would have led to a synthetic portfolio.

Every site, service and order is registered, and every milestone gets a plausible history that
ends in the state the portfolio gives it: planned, started, blocked (sometimes more than once,
sometimes reclassified, sometimes on an owner other than the reason's default), unblocked,
completed, reopened, cancelled, with target dates that move now and then. The same portfolio and
seed always give the same events, ids included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import pendulum

from servicedelivery.eventlog import (
    BlockReclassified,
    Event,
    MilestoneBlocked,
    MilestoneCancelled,
    MilestoneCompleted,
    MilestonePlanned,
    MilestoneReopened,
    MilestoneStarted,
    MilestoneUnblocked,
    NewEvent,
    OrderPlaced,
    ServiceRegistered,
    SiteRegistered,
    TargetDateChanged,
)
from servicedelivery.model import (
    DEFAULT_TAXONOMY,
    Milestone,
    MilestoneState,
    Owner,
    Portfolio,
)
from servicedelivery.synthetic._portfolio import _STEP_REASONS, synthetic_portfolio

__all__ = ["synthetic_trail"]

Batch = tuple[str, list[NewEvent]]

_NAMESPACE = uuid.UUID("6f1c3f4e-2b1a-4d8e-9c1e-5a7d2b9e0c11")


def synthetic_trail(
    portfolio: Portfolio | None = None,
    *,
    seed: int = 7,
    now: pendulum.DateTime | None = None,
) -> list[Batch]:
    """The batches of events, one per entity, that lead to ``portfolio``.

    Args:
        portfolio: The portfolio to reach; ``synthetic_portfolio(seed=seed)`` by default.
        seed: The seed of the histories' details.
        now: No event occurs after it; 2026-01-05 09:00 UTC by default, the default portfolio's
            ``now``.

    Returns:
        ``(stream id, events)`` pairs, ready for ``log.append(stream_id, events)``; sites,
        services and orders first, then milestones.
    """
    portfolio = portfolio if portfolio is not None else synthetic_portfolio(seed=seed)
    now = now or pendulum.datetime(2026, 1, 5, 9, tz="UTC")
    return list(_Writer(portfolio, seed, now).batches())


class _Writer:
    def __init__(self, portfolio: Portfolio, seed: int, now: pendulum.DateTime) -> None:
        self.portfolio = portfolio
        self.rng = np.random.default_rng(seed)
        self.now = now
        self.counter = 0
        self.seed = seed

    def new(self, event: Event, at: pendulum.DateTime, *, actor: str = "sync") -> NewEvent:
        self.counter += 1
        event_id = str(uuid.uuid5(_NAMESPACE, f"{self.seed}/{self.counter}"))
        return NewEvent(event, occurred_at=at, event_id=event_id, actor=actor, source="synthetic")

    def batches(self) -> Iterator[Batch]:
        portfolio = self.portfolio
        for site in portfolio.sites:
            yield f"site:{site.id}", [self.new(SiteRegistered(site=site), _EPOCH)]
        orders = {order.id: order for order in portfolio.orders}
        first_order_at: dict[str, pendulum.DateTime] = {}
        for order in portfolio.orders:
            for service_id in order.service_ids:
                first_order_at.setdefault(service_id, order.requested_at)
        services = {service.id: service for service in portfolio.services}
        for service in portfolio.services:
            at = first_order_at.get(service.id, _EPOCH)
            yield f"service:{service.id}", [self.new(ServiceRegistered(service=service), at)]
        for order in portfolio.orders:
            yield f"order:{order.id}", [self.new(OrderPlaced(order=order), order.requested_at)]
        sites = {site.id: site for site in portfolio.sites}
        for milestone in portfolio.milestones:
            order = orders[milestone.order_id]
            service = services[order.service_ids[0]]
            site = sites[order.site_id]
            attributes = {
                "provider": service.provider,
                "region": site.region,
                "site": site.id,
                "service": service.kind,
            }
            yield (
                f"milestone:{milestone.id}",
                self.history(milestone, order.requested_at, attributes),
            )

    def history(
        self, milestone: Milestone, requested: pendulum.DateTime, attributes: dict[str, str]
    ) -> list[NewEvent]:
        rng = self.rng
        at = requested.add(minutes=milestone.sequence)
        # Now and then the date first agreed moved once; the portfolio holds the date agreed last.
        moved = milestone.target_at is not None and rng.random() < 0.15
        first_target = milestone.target_at
        if moved and milestone.target_at is not None:
            first_target = milestone.target_at.subtract(days=int(rng.integers(3, 20)))
        events = [
            self.new(
                MilestonePlanned(
                    order_id=milestone.order_id,
                    step=milestone.step,
                    sequence=milestone.sequence,
                    target_at=first_target,
                    attributes=attributes,
                ),
                at,
            )
        ]
        # The rest of the history happens between planning and now.
        span = max((self.now - at).total_seconds(), 60.0)
        moments = np.sort(rng.uniform(0, span, size=9))
        times = [at.add(seconds=int(m)) for m in moments[1:]]
        if moved:
            change = TargetDateChanged(target_at=milestone.target_at, note="customer asked")
            events.append(self.new(change, at.add(seconds=int(moments[0]))))
        state = milestone.state
        if state is MilestoneState.PLANNED:
            return events
        if state is MilestoneState.CANCELLED:
            if rng.random() < 0.5:
                events.append(self.new(MilestoneStarted(), times[0]))
            events.append(self.new(MilestoneCancelled(note="order cancelled"), times[1]))
            return events
        events.append(self.new(MilestoneStarted(), times[0]))
        index = 1
        final_block = state is MilestoneState.BLOCKED
        # Earlier blocks, lifted: about a third of milestones had one.
        while index < 5 and rng.random() < (0.35 if index == 1 else 0.15):
            events.extend(self._block(milestone, times[index], times[index + 1]))
            index += 2
        if final_block:
            events.extend(self._block(milestone, times[index], None))
        elif state is MilestoneState.DONE:
            events.append(self.new(MilestoneCompleted(), times[index]))
            if rng.random() < 0.03:
                events.append(self.new(MilestoneReopened(note="failed in service"), times[6]))
                events.append(self.new(MilestoneCompleted(), times[7]))
        return events

    def _block(
        self, milestone: Milestone, start: pendulum.DateTime, end: pendulum.DateTime | None
    ) -> list[NewEvent]:
        rng = self.rng
        if end is None and milestone.reason is not None and milestone.owner is not None:
            reason, owner = milestone.reason, milestone.owner
        else:
            choices = _STEP_REASONS[milestone.step]
            code = choices[rng.choice(len(choices), p=[w for _, w in choices])][0]
            reason, owner = code.value, DEFAULT_TAXONOMY.require(code.value).owner
        override = False
        if end is not None and rng.random() < 0.1:
            owner, override = list(Owner)[int(rng.integers(len(Owner)))], True
        events = [
            self.new(
                MilestoneBlocked(reason=reason, owner=owner, override=override),
                start,
                actor="ann" if rng.random() < 0.3 else "sync",
            )
        ]
        if end is not None:
            if rng.random() < 0.1:
                events.append(
                    self.new(
                        BlockReclassified(
                            reason="awaiting_provider", owner=Owner.PROVIDER, note="escalated"
                        ),
                        start.add(seconds=int((end - start).total_seconds() // 2)),
                    )
                )
            events.append(self.new(MilestoneUnblocked(), end))
        return events


_EPOCH = pendulum.datetime(2024, 1, 1, tz="UTC")
