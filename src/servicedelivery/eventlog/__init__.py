"""The event trail: typed events, an append-only log with tamper evidence, and replay.

Every change to delivery work is recorded as an event in the stream of the entity it concerns
(``"milestone:M-1"``). State and metrics are derived from the trail, so any figure can be traced to
the events behind it.
"""

from servicedelivery.eventlog._entity_events import (
    CaseOpened,
    CaseReopened,
    CaseResolved,
    CaseUpdated,
    InvoiceApproved,
    InvoiceDisputed,
    InvoiceReceived,
    OrderAmended,
    OrderCancelled,
    OrderPlaced,
    ServiceRegistered,
    ServiceUpdated,
    SiteRegistered,
    SiteUpdated,
)
from servicedelivery.eventlog._escalations import EscalationCleared, EscalationRaised
from servicedelivery.eventlog._events import Event, Transition
from servicedelivery.eventlog._milestone_events import (
    BlockReclassified,
    MilestoneBlocked,
    MilestoneCancelled,
    MilestoneCompleted,
    MilestoneEvent,
    MilestonePlanned,
    MilestoneReopened,
    MilestoneStarted,
    MilestoneTransitioned,
    MilestoneUnblocked,
    TargetDateChanged,
)
from servicedelivery.eventlog._records import (
    Appended,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StoredRecord,
    StreamHead,
)
from servicedelivery.eventlog._registry import DEFAULT_REGISTRY, EventRegistry, EventType, Upcaster
from servicedelivery.eventlog._streams import StreamKind, split_stream_id, stream_id

__all__ = [
    "DEFAULT_REGISTRY",
    "Appended",
    "BlockReclassified",
    "CaseOpened",
    "CaseReopened",
    "CaseResolved",
    "CaseUpdated",
    "EscalationCleared",
    "EscalationRaised",
    "Event",
    "EventRegistry",
    "EventType",
    "ExpectedVersion",
    "InvoiceApproved",
    "InvoiceDisputed",
    "InvoiceReceived",
    "MilestoneBlocked",
    "MilestoneCancelled",
    "MilestoneCompleted",
    "MilestoneEvent",
    "MilestonePlanned",
    "MilestoneReopened",
    "MilestoneStarted",
    "MilestoneTransitioned",
    "MilestoneUnblocked",
    "NewEvent",
    "OrderAmended",
    "OrderCancelled",
    "OrderPlaced",
    "RecordedEvent",
    "ServiceRegistered",
    "ServiceUpdated",
    "SiteRegistered",
    "SiteUpdated",
    "StoredRecord",
    "StreamHead",
    "StreamKind",
    "TargetDateChanged",
    "Transition",
    "Upcaster",
    "split_stream_id",
    "stream_id",
]
