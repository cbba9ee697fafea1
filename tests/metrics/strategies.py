"""Random event histories: reopened work, open work, ties, single events, missing attributes."""

from __future__ import annotations

from hypothesis import strategies as st

from servicedelivery.model import NS_PER_HOUR, OWNERS

# 2024-03-30T00:00Z: the histories straddle the change to summer time in Europe.
BASE = 1_711_756_800 * 10**9
STATE_VALUES = ("planned", "in_progress", "blocked", "done", "cancelled")
REASONS = ("site_access", "awaiting_provider", "noc_configuration")
# Weighted so that consecutive blocks (same reason, another owner) and reopened work are common.
DRAWN_STATES = (*STATE_VALUES, "in_progress", "blocked", "blocked", "done")
PROVIDERS = ("p1", "p2", "p3")

History = tuple[dict[str, list[object]], int]


@st.composite
def histories(draw: st.DrawFn, *, max_items: int = 6, max_rows: int = 30) -> History:
    """Columns of rows in input order, and a ``now`` (sometimes before the last rows)."""
    items = draw(st.integers(1, max_items))
    count = draw(st.integers(1, max_rows))
    columns: dict[str, list[object]] = {
        name: [] for name in ("item", "time", "state", "owner", "reason", "provider")
    }
    for _ in range(count):
        state = draw(st.sampled_from(DRAWN_STATES))
        reason = owner = None
        if state == "blocked":
            reason = draw(st.sampled_from(REASONS))
            owner = draw(st.none() | st.sampled_from([o.value for o in OWNERS]))
        columns["item"].append(f"m{draw(st.integers(0, items - 1))}")
        # Few distinct hours, so that ties within an item are common.
        columns["time"].append(BASE + draw(st.integers(0, 60)) * 3 * NS_PER_HOUR)
        columns["state"].append(state)
        columns["owner"].append(owner)
        columns["reason"].append(reason)
        columns["provider"].append(draw(st.none() | st.sampled_from(PROVIDERS)))
    last = max(columns["time"])  # type: ignore[type-var]
    if draw(st.booleans()):
        now = last + draw(st.integers(0, 30)) * NS_PER_HOUR
    else:
        now = draw(st.integers(BASE, last))
    return columns, int(now)  # type: ignore[call-overload]
