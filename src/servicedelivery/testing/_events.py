"""Hypothesis strategies for the event trail's events.

Every event generated is valid on its own; whether the log accepts it also depends on the stream it
is appended to (a block needs a started or planned milestone, and so on).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from servicedelivery.eventlog import (
    DEFAULT_REGISTRY,
    BlockReclassified,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseUpdated,
    EscalationCleared,
    EscalationRaised,
    Event,
    InvoiceApproved,
    InvoiceDisputed,
    InvoiceReceived,
    MilestoneBlocked,
    MilestoneCancelled,
    MilestoneCompleted,
    MilestonePlanned,
    MilestoneReopened,
    MilestoneStarted,
    MilestoneTransitioned,
    MilestoneUnblocked,
    OrderAmended,
    OrderCancelled,
    OrderPlaced,
    ServiceRegistered,
    ServiceUpdated,
    SiteRegistered,
    SiteUpdated,
    TargetDateChanged,
)
from servicedelivery.model import DEFAULT_TAXONOMY, Owner, Taxonomy
from servicedelivery.testing._strategies import (
    aware_datetimes,
    cases,
    identifiers,
    invoices,
    orders,
    services,
    sites,
)

__all__ = ["blocks", "event_ids", "events", "notes", "plans"]

_PROVIDERS = ("cobalt_fibre", "delta_carrier", "fjord_net", "orbit_carrier")
_REGIONS = ("france", "dach", "nordics", "apac")
_STEPS = ("site_survey", "provider_order", "installation", "configuration", "acceptance_test")


def event_ids() -> st.SearchStrategy[str]:
    """Event ids: UUIDs in canonical text form."""
    return st.uuids().map(str)


def notes() -> st.SearchStrategy[str]:
    """Free-text notes, mostly empty, sometimes beyond ASCII or with control characters."""
    return st.just("") | st.text(max_size=24)


def plans(
    *, order_ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[MilestonePlanned]:
    """Planned milestones with attributes drawn from small pools, so that groupings repeat."""
    attributes = st.fixed_dictionaries(
        {},
        optional={
            "provider": st.sampled_from(_PROVIDERS),
            "region": st.sampled_from(_REGIONS),
            "site": st.sampled_from(("S-1", "S-2", "S-3")),
            "service": identifiers(),
        },
    )
    return st.builds(
        MilestonePlanned,
        order_id=order_ids if order_ids is not None else st.sampled_from(("O-1", "O-2", "O-3")),
        step=st.sampled_from(_STEPS),
        sequence=st.integers(0, 9),
        target_at=st.none() | aware_datetimes(),
        attributes=attributes,
    )


@st.composite
def blocks(
    draw: st.DrawFn, *, taxonomy: Taxonomy = DEFAULT_TAXONOMY, reclassify: bool = False
) -> MilestoneBlocked | BlockReclassified:
    """Blocks (or reclassifications) with a reason of ``taxonomy`` and a fitting owner.

    The owner is the reason's default owner, or another one with ``override`` set, as the lifecycle
    requires.
    """
    reason = draw(st.sampled_from(taxonomy.reasons))
    owner = draw(st.just(reason.owner) | st.sampled_from(Owner))
    cls = BlockReclassified if reclassify else MilestoneBlocked
    return cls(
        reason=reason.code,
        owner=owner,
        override=owner is not reason.owner or draw(st.booleans()),
        note=draw(notes()),
    )


def _with_note(cls: type[Event]) -> st.SearchStrategy[Any]:
    return st.builds(cls, note=notes())


def _stream_ids() -> st.SearchStrategy[str]:
    return st.sampled_from(("milestone:M-1", "milestone:M-2", "case:C-1")) | identifiers().map(
        lambda entity: f"milestone:{entity}"
    )


_EVENTS: dict[type[Event], st.SearchStrategy[Any]] = {
    MilestonePlanned: plans(),
    MilestoneStarted: _with_note(MilestoneStarted),
    MilestoneBlocked: blocks(),
    BlockReclassified: blocks(reclassify=True),
    MilestoneUnblocked: _with_note(MilestoneUnblocked),
    MilestoneCompleted: _with_note(MilestoneCompleted),
    MilestoneCancelled: _with_note(MilestoneCancelled),
    MilestoneReopened: _with_note(MilestoneReopened),
    MilestoneTransitioned: st.builds(
        MilestoneTransitioned,
        trigger=st.sampled_from(("start", "accept", "escalate")),
        reason=st.none() | st.sampled_from(DEFAULT_TAXONOMY.codes),
        owner=st.none() | st.sampled_from(Owner),
        override=st.booleans(),
        note=notes(),
    ),
    TargetDateChanged: st.builds(
        TargetDateChanged, target_at=st.none() | aware_datetimes(), note=notes()
    ),
    OrderPlaced: st.builds(OrderPlaced, order=orders()),
    OrderAmended: st.builds(OrderAmended, order=orders(), note=notes()),
    OrderCancelled: _with_note(OrderCancelled),
    SiteRegistered: st.builds(SiteRegistered, site=sites()),
    SiteUpdated: st.builds(SiteUpdated, site=sites()),
    ServiceRegistered: st.builds(ServiceRegistered, service=services()),
    ServiceUpdated: st.builds(ServiceUpdated, service=services()),
    CaseOpened: st.builds(CaseOpened, case=cases()),
    CaseUpdated: st.builds(CaseUpdated, case=cases()),
    CaseResolved: st.builds(
        CaseResolved, root_cause=st.none() | st.text(max_size=20), note=notes()
    ),
    CaseReopened: _with_note(CaseReopened),
    InvoiceReceived: st.builds(InvoiceReceived, invoice=invoices()),
    InvoiceDisputed: st.builds(
        InvoiceDisputed, reason=st.sampled_from(("billed before delivery", "wrong amount"))
    ),
    InvoiceApproved: _with_note(InvoiceApproved),
    EscalationRaised: st.builds(
        EscalationRaised,
        policy=st.sampled_from(("blocked_too_long", "late_delivery")),
        item=_stream_ids(),
        episode=st.integers(0, 10**9),
        level=st.integers(1, 4),
        target=st.sampled_from(("customer", "provider", "noc", "delivery_managers")),
        explanation=st.dictionaries(
            st.text(max_size=8),
            st.recursive(
                st.none()
                | st.booleans()
                | st.integers()
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=8),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=4), inner, max_size=3)
                ),
                max_leaves=6,
            ),
            max_size=4,
        ),
        evidence=st.lists(st.uuids(), max_size=3, unique=True).map(tuple),
    ),
    EscalationCleared: st.builds(
        EscalationCleared,
        policy=st.sampled_from(("blocked_too_long", "late_delivery")),
        item=_stream_ids(),
        episode=st.integers(0, 10**9),
    ),
}


def events(*, types: tuple[type[Event], ...] | None = None) -> st.SearchStrategy[Event]:
    """Valid events of the library's own types (all of them, or the classes in ``types``).

    Args:
        types: Only these event classes.
    """
    chosen = types if types is not None else tuple(t.cls for t in DEFAULT_REGISTRY)
    return st.one_of([_EVENTS[cls] for cls in chosen])
