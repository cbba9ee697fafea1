"""The closed vocabularies: who owns blocked work, the canonical milestone states, case kinds."""

from __future__ import annotations

from enum import StrEnum, unique

__all__ = ["OWNERS", "STATES", "CaseKind", "MilestoneState", "Owner", "Priority"]


@unique
class Owner(StrEnum):
    """Who must act for blocked work to move again.

    The four parties of service delivery. A blocked reason names its default owner; a status map or a
    person may override it, and the override is recorded.
    """

    PROVIDER = "provider"
    """The carrier, vendor or field-services provider delivering the service."""
    CUSTOMER = "customer"
    """The customer: access to their site, readiness, information, approvals."""
    NOC = "noc"
    """The network operations centre: configuration, provisioning, testing."""
    SERVICE_DESK = "service_desk"
    """The service desk or delivery team itself."""


@unique
class MilestoneState(StrEnum):
    """The canonical states of a milestone.

    A custom lifecycle may declare states of its own (``awaiting_acceptance``, say); each of them
    belongs to one of these canonical states, which is what metrics and policies read.
    """

    PLANNED = "planned"
    """Agreed and scheduled; no work started."""
    IN_PROGRESS = "in_progress"
    """Someone is working on it."""
    BLOCKED = "blocked"
    """Cannot move until its owner acts; always carries a reason and an owner."""
    DONE = "done"
    """Finished. Terminal unless the lifecycle allows reopening."""
    CANCELLED = "cancelled"
    """Will not be done. Terminal."""

    @property
    def is_open(self) -> bool:
        """Whether work in this state still counts as open (not done, not cancelled)."""
        return self not in (MilestoneState.DONE, MilestoneState.CANCELLED)


@unique
class CaseKind(StrEnum):
    """The ITIL kinds of case that accompany delivery work."""

    INCIDENT = "incident"
    PROBLEM = "problem"
    CHANGE = "change"
    REQUEST = "request"


@unique
class Priority(StrEnum):
    """Business priority of an order or a case, from most to least urgent."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """1 for critical through 4 for low, for sorting."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {priority: rank for rank, priority in enumerate(Priority, start=1)}


STATES: tuple[MilestoneState, ...] = tuple(MilestoneState)
"""The canonical states in code order: columnar data stores a state as its index here."""

OWNERS: tuple[Owner, ...] = tuple(Owner)
"""The owners in code order: columnar data stores an owner as its index here (``-1`` for none)."""
