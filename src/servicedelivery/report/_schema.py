"""The report's sections and their columns: the one place the stable JSON keys are declared.

Each section is a table whose columns never change name or order; an empty section still has them
all, and says why it is empty. ``docs/reference/report.md`` documents exactly these keys (a test
checks), so a consumer of the JSON can rely on them.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["SCHEMA", "SECTIONS", "SUMMARY_KEYS"]

SCHEMA = "servicedelivery.portfolio_report/1"
"""The value of the JSON's ``schema`` key; its number changes only when a key changes meaning."""

SUMMARY_KEYS: tuple[str, ...] = (
    "items",
    "events",
    "first_event",
    "last_event",
    "open",
    "planned",
    "in_progress",
    "blocked",
    "done",
    "cancelled",
    "blocked_share",
    "aging_items",
    "cycle_time_items",
    "cycle_time_p50_days",
    "cycle_time_p85_days",
    "cycle_time_p95_days",
)

_BLOCKED_GROUP = ("items", "share", "median_blocked_days", "max_blocked_days")
_CYCLE_GROUP = (
    "items",
    "mean_days",
    "p50_days",
    "p85_days",
    "p95_days",
    "max_days",
    "recent_items",
    "recent_p85_days",
    "previous_items",
    "previous_p85_days",
    "trend",
)

SECTIONS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "blocked_by_reason": (
        "Blocked now, by reason",
        ("reason", "label", "owner", *_BLOCKED_GROUP),
    ),
    "blocked_by_owner": ("Blocked now, by owner", ("owner", *_BLOCKED_GROUP)),
    "blocked_by_region": ("Blocked now, by region", ("region", *_BLOCKED_GROUP)),
    "blocked_by_provider": ("Blocked now, by provider", ("provider", *_BLOCKED_GROUP)),
    "oldest_blocked": (
        "Oldest blocked items",
        (
            "item",
            "reason",
            "owner",
            "blocked_since",
            "blocked_days",
            "age_days",
            "provider",
            "region",
            "step",
            "evidence",
        ),
    ),
    "aging": (
        "Aging of open work that has started",
        ("bucket", "from_days", "to_days", "in_progress", "blocked", "items"),
    ),
    "aging_by_step": (
        "Aging of open work by step",
        ("step", "items", "blocked", "p50_age_days", "p85_age_days", "max_age_days"),
    ),
    "cycle_time_by_provider": ("Cycle time by provider", ("provider", *_CYCLE_GROUP)),
    "cycle_time_by_region": ("Cycle time by region", ("region", *_CYCLE_GROUP)),
    "cycle_time_by_step": ("Cycle time by step", ("step", *_CYCLE_GROUP)),
    "cycle_time_trend": (
        "Cycle time per month of completion",
        ("period", "items", "p50_days", "p85_days", "p95_days"),
    ),
    "blocked_time_by_owner": (
        "Time spent blocked, by owner (all history)",
        ("owner", "blocked_days", "items", "share"),
    ),
    "cumulative_flow": (
        "Cumulative flow (items in each state at the end of each week)",
        ("period", "planned", "in_progress", "blocked", "done", "cancelled"),
    ),
    "sla_at_risk": (
        "SLA at risk",
        ("item", "sla", "state", "due_at", "remaining_days", "status", "evidence"),
    ),
    "target_date_at_risk": (
        "Target dates at risk",
        (
            "item",
            "state",
            "owner",
            "reason",
            "target_at",
            "days_to_target",
            "age_days",
            "miss_probability",
            "forecast_p85_at",
            "status",
            "provider",
            "region",
            "step",
            "evidence",
        ),
    ),
    "escalations_due": (
        "Escalations due",
        ("item", "policy", "action", "level", "target", "explanation", "evidence"),
    ),
}
"""Each section's key, its title, and its columns in order."""
