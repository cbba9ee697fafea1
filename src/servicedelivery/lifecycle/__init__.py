"""The milestone lifecycle: one declared definition, a ``transitions`` machine and a numpy table.

A :class:`Lifecycle` is declared once, as data: its states (each belonging to a canonical
``MilestoneState``), the triggers that move between them, and the guards those moves need. From
that one definition come the fast scalar check :meth:`Lifecycle.next_state`, the state machine
behind :meth:`Lifecycle.apply` for single milestones, and the compiled :class:`LifecycleTable` that
validates millions of recorded events at once. :data:`DEFAULT_LIFECYCLE` is the standard one.
"""

from servicedelivery.lifecycle._check import HistoryCheck, ViolationKind
from servicedelivery.lifecycle._default import DEFAULT_LIFECYCLE, Trigger
from servicedelivery.lifecycle._definition import Guard, LifecycleState, TransitionRule
from servicedelivery.lifecycle._lifecycle import Lifecycle
from servicedelivery.lifecycle._table import LifecycleTable

__all__ = [
    "DEFAULT_LIFECYCLE",
    "Guard",
    "HistoryCheck",
    "Lifecycle",
    "LifecycleState",
    "LifecycleTable",
    "TransitionRule",
    "Trigger",
    "ViolationKind",
]
