"""The vocabulary of service delivery: entities, owners, states, blocked reasons and status maps.

Everything here is a value: frozen, validated, and free of storage. The rest of the library builds on
it; it imports nothing from the rest of the library.
"""

from servicedelivery.model._convert import make_converter, structure, unstructure
from servicedelivery.model._entities import (
    Case,
    Invoice,
    Milestone,
    Money,
    Order,
    Period,
    Service,
    Site,
)
from servicedelivery.model._enums import OWNERS, STATES, CaseKind, MilestoneState, Owner, Priority
from servicedelivery.model._portfolio import Portfolio
from servicedelivery.model._statusmap import MappedStatuses, StatusMap, StatusRule, StatusTarget
from servicedelivery.model._taxonomy import (
    DEFAULT_TAXONOMY,
    BlockedReason,
    StandardReason,
    Taxonomy,
)
from servicedelivery.model._time import (
    NS_PER_DAY,
    NS_PER_HOUR,
    NS_PER_MINUTE,
    NS_PER_SECOND,
    from_epoch_ns,
    to_epoch_ns,
)

__all__ = [
    "DEFAULT_TAXONOMY",
    "NS_PER_DAY",
    "NS_PER_HOUR",
    "NS_PER_MINUTE",
    "NS_PER_SECOND",
    "OWNERS",
    "STATES",
    "BlockedReason",
    "Case",
    "CaseKind",
    "Invoice",
    "MappedStatuses",
    "Milestone",
    "MilestoneState",
    "Money",
    "Order",
    "Owner",
    "Period",
    "Portfolio",
    "Priority",
    "Service",
    "Site",
    "StandardReason",
    "StatusMap",
    "StatusRule",
    "StatusTarget",
    "Taxonomy",
    "from_epoch_ns",
    "make_converter",
    "structure",
    "to_epoch_ns",
    "unstructure",
]
