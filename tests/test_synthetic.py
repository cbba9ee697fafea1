from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from servicedelivery.metrics import EventFrame, cycle_time, episodes
from servicedelivery.model import STATES, MilestoneState, Portfolio
from servicedelivery.synthetic import (
    PROVIDERS,
    REGIONS,
    STEPS,
    synthetic_event_columns,
    synthetic_portfolio,
)


def test_same_seed_same_portfolio() -> None:
    assert synthetic_portfolio(orders=50, seed=1) == synthetic_portfolio(orders=50, seed=1)
    assert synthetic_portfolio(orders=50, seed=1) != synthetic_portfolio(orders=50, seed=2)


def test_portfolio_is_realistic() -> None:
    portfolio = synthetic_portfolio(orders=1_500)
    assert isinstance(portfolio, Portfolio)
    assert {site.region for site in portfolio.sites} == set(REGIONS)
    assert {service.provider for service in portfolio.services} == set(PROVIDERS)
    assert len({site.timezone for site in portfolio.sites}) >= 10
    states = Counter(m.state for m in portfolio.milestones)
    assert all(states[state] > 0 for state in MilestoneState)
    owners = Counter(m.owner for m in portfolio.milestones if m.owner is not None)
    assert len(owners) == 4
    # Customer-side blocks are the most common, as in real delivery work.
    assert owners.most_common(1)[0][0] == "customer"


def test_synthetic_event_columns_are_seeded_and_exactly_sized() -> None:
    first = synthetic_event_columns(events=5_000, seed=3)
    again = synthetic_event_columns(events=5_000, seed=3)
    other = synthetic_event_columns(events=5_000, seed=4)
    assert len(first["time"]) == 5_000
    assert first["time"].tolist() == again["time"].tolist()
    assert first["time"].tolist() != other["time"].tolist()
    assert first["item"].codes.tolist() == again["item"].codes.tolist()


def test_synthetic_event_columns_look_like_a_delivery_log() -> None:
    columns = synthetic_event_columns(events=200_000, seed=11)
    now = columns.pop("now")
    time, state = columns["time"], columns["state"]
    assert (np.diff(time) >= 0).all()  # interleaved in time order
    assert time.max() < now
    frame = EventFrame.from_columns(
        columns, owner="owner", reason="reason", attributes=["provider", "region", "step"]
    )
    assert len(frame) / frame.item_count == pytest.approx(5.5, abs=0.15)
    blocked = STATES.index(MilestoneState.BLOCKED)
    assert (state == blocked).mean() == pytest.approx(0.25, abs=0.01)
    assert episodes(frame, now=now).open_items().mean() == pytest.approx(0.15, abs=0.01)
    assert ((columns["reason"] >= 0) == (state == blocked)).all()
    assert ((columns["owner"] >= 0) == (state == blocked)).all()
    # Ties within a milestone occur, and reopened work exists.
    assert ((np.diff(frame.item) == 0) & (np.diff(frame.time) == 0)).any()
    assert (cycle_time(frame).start_episode >= 0).all()
    reopened = cycle_time(frame, reopened="first").duration.sum() < cycle_time(frame).duration.sum()
    assert reopened
    assert set(frame.item_attributes["provider"].labels()) == set(PROVIDERS)
    assert set(frame.item_attributes["step"].labels()) == set(STEPS)
