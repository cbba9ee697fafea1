"""The event trail: typed events, an append-only log with tamper evidence, and replay.

Every change to delivery work is recorded as an event in the stream of the entity it concerns
(``"milestone:M-1"``). State and metrics are derived from the trail, so any figure can be traced to
the events behind it.
"""

from servicedelivery.eventlog._batch import AttributeRow
from servicedelivery.eventlog._chain import GENESIS
from servicedelivery.eventlog._columns import NO_TARGET, Categorical, EventColumns, RawColumns
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
from servicedelivery.eventlog._ids import uuid7_text
from servicedelivery.eventlog._log import Clock, EventLog, utc_now
from servicedelivery.eventlog._memory import InMemoryEventLog
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
from servicedelivery.eventlog._projector import (
    CatchUpProjector,
    Checkpoint,
    FileCheckpoint,
    InMemoryCheckpoint,
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
from servicedelivery.eventlog._replay import PortfolioView, replay
from servicedelivery.eventlog._sqlite import SCHEMA_VERSION, SQLiteEventLog
from servicedelivery.eventlog._streams import StreamKind, split_stream_id, stream_id
from servicedelivery.eventlog._verify import Verification

__all__ = [
    "DEFAULT_REGISTRY",
    "GENESIS",
    "NO_TARGET",
    "SCHEMA_VERSION",
    "Appended",
    "AttributeRow",
    "BlockReclassified",
    "CaseOpened",
    "CaseReopened",
    "CaseResolved",
    "CaseUpdated",
    "CatchUpProjector",
    "Categorical",
    "Checkpoint",
    "Clock",
    "EscalationCleared",
    "EscalationRaised",
    "Event",
    "EventColumns",
    "EventLog",
    "EventRegistry",
    "EventType",
    "ExpectedVersion",
    "FileCheckpoint",
    "InMemoryCheckpoint",
    "InMemoryEventLog",
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
    "PortfolioView",
    "RawColumns",
    "RecordedEvent",
    "SQLiteEventLog",
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
    "Verification",
    "replay",
    "split_stream_id",
    "stream_id",
    "utc_now",
    "uuid7_text",
]
