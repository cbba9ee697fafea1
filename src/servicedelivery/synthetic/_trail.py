"""A seeded synthetic event trail: the events that would have led to a synthetic portfolio.

Every site, service and order is registered, and every milestone gets a plausible history that
ends in the state the portfolio gives it: planned, started, blocked (sometimes more than once,
sometimes reclassified, sometimes on an owner other than the reason's default), unblocked,
completed, reopened, cancelled, with target dates that move now and then. An order's steps run one
after the other; each takes a time typical of its step and its provider (some providers are slower
than others), and blocks last longer when the work waits on a provider or a customer than on the NOC
or the service desk. The same portfolio and seed always give the same events, ids included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import attrs
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
from servicedelivery.eventlog._ids import uuid7_text_at
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
# An event id's 74 bits after its time: a counter of the events drawn, then bits from the seed.
_COUNTER_BITS = 28
_COUNTER_MASK = (1 << _COUNTER_BITS) - 1
_SEEDED_BITS = 74 - _COUNTER_BITS
_SEEDED_MASK = (1 << _SEEDED_BITS) - 1


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
        self.written_ms = int(now.timestamp()) * 1_000

    def new(self, event: Event, at: pendulum.DateTime, *, actor: str = "sync") -> NewEvent:
        self.counter += 1
        return NewEvent(
            event, occurred_at=at, event_id=self.event_id(), actor=actor, source="synthetic"
        )

    def event_id(self) -> str:
        """The id of the event drawn ``counter``-th: a UUID version 7, as if drawn at ``now``.

        As :func:`~servicedelivery.eventlog.uuid7_text` draws them in one millisecond, the ids
        sort in the order they are drawn (the counter fills the top 28 of the 74 bits after the
        time, RFC 9562's fixed-length counter), so appending the trail keeps the log's index of ids
        compact; the other 46 bits come from the seed, so that trails of other seeds do not share
        ids.
        """
        counter = self.counter
        seeded = uuid.uuid5(_NAMESPACE, f"{self.seed}/{counter}").int & _SEEDED_MASK
        return uuid7_text_at(
            self.written_ms + (counter >> _COUNTER_BITS),
            ((counter & _COUNTER_MASK) << _SEEDED_BITS) | seeded,
        )

    def batches(self) -> Iterator[Batch]:
        portfolio = self.portfolio
        for site in portfolio.sites:
            yield f"site:{site.id}", [self.new(SiteRegistered(site=site), _EPOCH)]
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
        by_order: dict[str, list[Milestone]] = {}
        for milestone in portfolio.milestones:
            by_order.setdefault(milestone.order_id, []).append(milestone)
        for order in portfolio.orders:
            service = services[order.service_ids[0]]
            site = sites[order.site_id]
            attributes = {
                "provider": service.provider,
                "region": site.region,
                "site": site.id,
                "service": service.kind,
            }
            milestones = sorted(by_order.get(order.id, []), key=lambda m: m.sequence)
            yield from self.order_histories(order.requested_at, milestones, attributes)

    def order_histories(
        self,
        requested: pendulum.DateTime,
        milestones: list[Milestone],
        attributes: dict[str, str],
    ) -> Iterator[Batch]:
        """The histories of one order's milestones: its steps one after the other.

        Each step waits for the one before it, takes a working time typical of the step and the
        provider, and is held up by blocks whose length depends on who is waited on. The order's
        finished steps are squeezed, if need be, to end before ``now``, so that every history ends
        in the state the portfolio gives it.
        """
        rng = self.rng
        start = int(requested.timestamp())
        now = int(self.now.timestamp())
        states = [m.state for m in milestones]
        finished = sum(state is MilestoneState.DONE for state in states)
        work, blocks = self.step_days(milestones, start, attributes["provider"])
        # A finished step now and then failed in service: reopened after a gap, fixed after rework.
        rework = [
            (float(rng.uniform(0.2, 2.0)), float(rng.uniform(0.2, 1.5)))
            if state is MilestoneState.DONE and rng.random() < 0.03
            else None
            for state in states
        ]
        spans = [
            (work[k] + sum(days for _, days, _ in blocks[k])) * _DAY for k in range(len(milestones))
        ]
        extra = [sum(r) * _DAY if r else 0.0 for r in rework]
        waits = [float(rng.exponential(0.5)) * _DAY for _ in milestones]
        # The finished steps, and the start of the step after them, must fit before now.
        needed = sum(spans[:finished]) + sum(extra[:finished]) + sum(waits[: finished + 1])
        room = max(now - start - 3_600, 60)
        scale = min(1.0, room * float(rng.uniform(0.55, 0.95)) / needed) if needed else 1.0
        at = float(start)
        cancel_at: float | None = None
        for k, milestone in enumerate(milestones):
            planned_at = start + 60 * milestone.sequence
            events, moved = self.plan(milestone, requested, attributes)
            state = milestone.state
            begin = at + waits[k] * scale
            if state is MilestoneState.CANCELLED:
                if cancel_at is None:
                    cancel_at = min(begin + float(rng.uniform(0.5, 10.0)) * _DAY, now - 60.0)
                if k == finished and begin < cancel_at and rng.random() < 0.5:
                    events.append(self.new(MilestoneStarted(), _at(begin)))
                when = max(cancel_at, planned_at + 1.0)
                events.append(self.new(MilestoneCancelled(note="order cancelled"), _at(when)))
            elif state is MilestoneState.DONE:
                span = spans[k] * scale
                end = begin + span
                events.append(self.new(MilestoneStarted(), _at(begin)))
                events.extend(self.blocked_stretches(milestone, begin, span, blocks[k], final=None))
                events.append(self.new(MilestoneCompleted(), _at(end)))
                again = rework[k]
                if again:
                    reopened = end + again[0] * _DAY * scale
                    events.append(
                        self.new(MilestoneReopened(note="failed in service"), _at(reopened))
                    )
                    end = reopened + again[1] * _DAY * scale
                    events.append(self.new(MilestoneCompleted(), _at(end)))
                at = end
            elif state is not MilestoneState.PLANNED:
                # In flight: its blocks so far, and the block it is in now if it is blocked.
                events.append(self.new(MilestoneStarted(), _at(begin)))
                elapsed = max(now - begin - 60, 60.0)
                final = state is MilestoneState.BLOCKED
                events.extend(
                    self.blocked_stretches(milestone, begin, elapsed, blocks[k], final=final)
                )
            if moved:
                events = self.moved_target(milestone, events, now)
            yield f"milestone:{milestone.id}", events

    def step_days(
        self, milestones: list[Milestone], start: int, provider: str
    ) -> tuple[list[float], list[list[tuple[str, float, Owner]]]]:
        """Days of work per step, and the blocks (reason, days, owner) each step meets.

        The work follows the order's plan (its last target date) at the provider's pace, some
        orders faster and some slower: slow providers miss their dates more often.
        """
        rng = self.rng
        work = [_STEP_DAYS.get(m.step, 5.0) * float(rng.lognormal(0.0, 0.45)) for m in milestones]
        blocks = [self.draw_blocks(m) for m in milestones]
        planned = sum(work) + sum(days for drawn in blocks for _, days, _ in drawn)
        last_target = milestones[-1].target_at if milestones else None
        plan_days = (int(last_target.timestamp()) - start) / _DAY if last_target else planned
        factor = (
            max(plan_days, 1.0)
            / max(planned, 1e-9)
            * _provider_factor(provider, self.seed)
            * float(rng.lognormal(0.0, 0.2))
        )
        return (
            [days * factor for days in work],
            [[(reason, days * factor, owner) for reason, days, owner in drawn] for drawn in blocks],
        )

    def plan(
        self, milestone: Milestone, requested: pendulum.DateTime, attributes: dict[str, str]
    ) -> tuple[list[NewEvent], bool]:
        """The planning of a milestone, at the date first agreed, and whether that date moved."""
        rng = self.rng
        at = requested.add(minutes=milestone.sequence)
        # Now and then the date first agreed moved once; the portfolio holds the date agreed last.
        moved = milestone.target_at is not None and rng.random() < 0.15
        first_target = milestone.target_at
        if moved and milestone.target_at is not None:
            first_target = milestone.target_at.subtract(days=int(rng.integers(3, 20)))
        planned = [
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
        return planned, moved

    def moved_target(
        self, milestone: Milestone, events: list[NewEvent], now: int
    ) -> list[NewEvent]:
        """The history, with the move of its target date somewhere inside it."""
        first = events[0].occurred_at.timestamp()
        last = max(events[-1].occurred_at.timestamp(), min(first + 7 * _DAY, now - 1.0))
        at = _at(first + float(self.rng.uniform(0.05, 0.95)) * (last - first))
        change = TargetDateChanged(target_at=milestone.target_at, note="customer asked")
        # A stable sort by time puts the change in its place; the transitions keep their order.
        history = sorted([*events, self.new(change, at)], key=lambda event: event.occurred_at)
        # The change was drawn last: the ids, drawn one after the other for this history, are
        # dealt again in the history's order, so that they still sort in the order of the log.
        ids = sorted(event.event_id for event in history)
        return [
            event if event.event_id == event_id else attrs.evolve(event, event_id=event_id)
            for event, event_id in zip(history, ids, strict=True)
        ]

    def draw_blocks(self, milestone: Milestone) -> list[tuple[str, float, Owner]]:
        """The blocks a step meets: reason, days, owner; about a third of steps meet one."""
        rng = self.rng
        drawn: list[tuple[str, float, Owner]] = []
        while len(drawn) < 3 and rng.random() < (0.35 if not drawn else 0.2):
            choices = _STEP_REASONS[milestone.step]
            code = choices[rng.choice(len(choices), p=[w for _, w in choices])][0]
            owner = DEFAULT_TAXONOMY.require(code.value).owner
            days = _BLOCK_DAYS[owner] * float(rng.lognormal(0.0, 0.6))
            drawn.append((code.value, days, owner))
        return drawn

    def blocked_stretches(
        self,
        milestone: Milestone,
        begin: float,
        span: float,
        blocks: list[tuple[str, float, Owner]],
        *,
        final: bool | None,
    ) -> list[NewEvent]:
        """The block, reclassify and unblock events of a step that began at ``begin``.

        Blocks sit one after the other in the step's span, each in a slot of its own with work
        before and after it, so they never overlap and all end before the step does.

        Args:
            final: ``None`` for a finished step; for one in flight, whether it is blocked now.
        """
        rng = self.rng
        events: list[NewEvent] = []
        slots = len(blocks) + (1 if final else 0)
        if not slots:
            return events
        room = span / (slots + 1)
        for index, (reason, days, default_owner) in enumerate(blocks):
            block_at = begin + room * (index + 0.1 + 0.3 * float(rng.random()))
            length = max(min(days * _DAY, room * 0.5), 60.0)
            override = rng.random() < 0.08
            owner = list(Owner)[int(rng.integers(len(Owner)))] if override else default_owner
            actor = "ann" if rng.random() < 0.3 else "sync"
            blocked = MilestoneBlocked(reason=reason, owner=owner, override=override)
            events.append(self.new(blocked, _at(block_at), actor=actor))
            if rng.random() < 0.1:
                escalated = BlockReclassified(
                    reason="awaiting_provider", owner=Owner.PROVIDER, note="escalated"
                )
                events.append(self.new(escalated, _at(block_at + length / 2)))
            events.append(self.new(MilestoneUnblocked(), _at(block_at + length)))
        if final and milestone.reason is not None and milestone.owner is not None:
            since = begin + room * (len(blocks) + 0.1 + 0.8 * float(rng.random()))
            override = milestone.owner != DEFAULT_TAXONOMY.require(milestone.reason).owner
            blocked = MilestoneBlocked(
                reason=milestone.reason, owner=milestone.owner, override=override
            )
            events.append(self.new(blocked, _at(since)))
        return events


def _at(seconds: float) -> pendulum.DateTime:
    return pendulum.from_timestamp(int(seconds), tz="UTC")


def _provider_factor(provider: str, seed: int) -> float:
    """How much slower or faster than planned a provider works: the same for a provider and seed."""
    digest = uuid.uuid5(_NAMESPACE, f"{seed}/{provider}").int
    return 0.75 + (digest % 1000) / 1000 * 0.6


# Typical days of work per step, without blocks.
_STEP_DAYS = {
    "order_validation": 2.0,
    "site_survey": 4.0,
    "provider_order": 9.0,
    "installation": 7.0,
    "configuration": 3.0,
    "acceptance_test": 2.5,
    "handover": 1.5,
}
# Typical days a block lasts, by who the work waits on.
_BLOCK_DAYS = {
    Owner.PROVIDER: 9.0,
    Owner.CUSTOMER: 6.0,
    Owner.NOC: 2.5,
    Owner.SERVICE_DESK: 1.5,
}
_DAY = 86_400.0


_EPOCH = pendulum.datetime(2024, 1, 1, tz="UTC")
